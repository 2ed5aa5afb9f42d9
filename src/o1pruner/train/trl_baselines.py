"""The paper's SFT and DPO baselines, on TRL's trainers, from the same pre-samples."""

from __future__ import annotations

import torch

from ..console import trainer_progress_callback
from ..distributed import BatchLayoutError, gradient_accumulation, process_count
from ..io import InputError


def training_arguments(settings: dict, seed: int, out_dir: str) -> dict:
    """`TrainingArguments` fields shared by every method, from the workflow's training settings.

    bf16 is mixed precision over fp32 weights (autocast; the optimiser updates fp32 master
    weights) unless `pure_bf16` loaded the weights themselves in bf16.
    """
    processes = process_count()
    try:
        accumulation = gradient_accumulation(
            settings["global_batch_size"], settings["per_device_batch_size"], processes
        )
    except BatchLayoutError as e:
        raise InputError(str(e)) from None
    return dict(
        output_dir=out_dir,
        seed=seed,
        data_seed=seed,
        learning_rate=settings["learning_rate"],
        num_train_epochs=settings["epochs"],
        per_device_train_batch_size=settings["per_device_batch_size"],
        gradient_accumulation_steps=accumulation,
        lr_scheduler_type=settings["lr_scheduler"],
        warmup_steps=settings["warmup_ratio"],
        weight_decay=settings["weight_decay"],
        max_grad_norm=settings["max_grad_norm"],
        gradient_checkpointing=settings["gradient_checkpointing"],
        bf16=settings["bf16"] and not settings["pure_bf16"],
        logging_steps=5,
        save_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        ddp_backend="gloo" if not torch.cuda.is_available() and processes > 1 else None,
        ddp_find_unused_parameters=False,
    )


def train_sft(model, tokenizer, examples: list[dict], settings: dict, seed: int, out_dir: str):
    """SFT on the sampled token ids themselves, loss on the response tokens only."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"input_ids": e["input_ids"], "completion_mask": e["response_mask"]} for e in examples])
    args = SFTConfig(
        **training_arguments(settings, seed, out_dir), max_length=settings["cutoff_len"], completion_only_loss=True
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


def _pairs_dataset(pairs: list[dict], shared_dir: str | None):
    """The DPO pairs as a `datasets.Dataset`. With several processes it lives on disk in
    `shared_dir`: TRL caches the precomputed reference log-probs beside the dataset's files for
    all ranks to read, and an in-memory dataset would put that file in each process's own
    temporary folder (rank 1 then fails to find rank 0's cache)."""
    from datasets import Dataset, load_from_disk

    if process_count() == 1 or shared_dir is None:
        return Dataset.from_list(pairs)
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    with state.main_process_first():
        if state.is_main_process:
            Dataset.from_list(pairs).save_to_disk(shared_dir)
    return load_from_disk(shared_dir)


def train_dpo(
    model, tokenizer, pairs: list[dict], settings: dict, seed: int, out_dir: str, shared_dir: str | None = None
):
    """DPO with rows of prompt (the rendered chat prompt), chosen and rejected response text.

    Reference log-probs are computed once before training (`precompute_ref_log_probs`), as for
    O1-Pruner, so no second model is kept for the training steps.
    """
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        **training_arguments(settings, seed, out_dir),
        max_length=settings["cutoff_len"],
        beta=settings.get("dpo_beta", 0.1),
        precompute_ref_log_probs=True,
    )
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=_pairs_dataset(pairs, shared_dir),
        processing_class=tokenizer,
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()
