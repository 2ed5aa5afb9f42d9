"""Each method's `TrainingArguments` from the workflow's training settings.

They are built before the model is loaded: under DeepSpeed ZeRO-3 creating them activates the
DeepSpeed config, so that `from_pretrained` creates the model already partitioned over the
processes (`deepspeed.zero.Init`) instead of whole on every rank.
"""

from __future__ import annotations

import torch

from ..distributed import BatchLayoutError, gradient_accumulation, process_count
from ..io import InputError
from ..settings import TrainingSettings


def training_arguments(settings: TrainingSettings, seed: int, out_dir: str) -> dict:
    """`TrainingArguments` fields shared by every method.

    bf16 is mixed precision over fp32 weights (autocast; the optimiser updates fp32 master
    weights) unless `pure_bf16` loaded the weights themselves in bf16.
    """
    processes = process_count()
    try:
        accumulation = gradient_accumulation(settings.global_batch_size, settings.per_device_batch_size, processes)
    except BatchLayoutError as e:
        raise InputError(str(e)) from None
    return dict(
        output_dir=out_dir,
        seed=seed,
        data_seed=seed,
        learning_rate=settings.learning_rate,
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=settings.per_device_batch_size,
        gradient_accumulation_steps=accumulation,
        lr_scheduler_type=settings.lr_scheduler,
        warmup_steps=settings.warmup_ratio,
        weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm,
        gradient_checkpointing=settings.gradient_checkpointing,
        bf16=settings.bf16 and not settings.pure_bf16,
        logging_steps=5,
        save_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        ddp_backend="gloo" if not torch.cuda.is_available() and processes > 1 else None,
        ddp_find_unused_parameters=False,
    )


def method_arguments(trainer: str, settings: TrainingSettings, seed: int, out_dir: str):
    """The trainer's own config class (train/registry.py), from the shared fields above."""
    from .registry import trainer as trainer_entry

    return trainer_entry(trainer).arguments(training_arguments(settings, seed, out_dir), settings)
