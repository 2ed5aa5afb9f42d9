"""The paper's SFT and DPO baselines, on TRL's trainers, from the same pre-samples."""

from __future__ import annotations

import torch


def training_arguments(settings: dict, seed: int, out_dir: str) -> dict:
    """`TrainingArguments` fields shared by every method, from the workflow's training settings."""
    return dict(
        output_dir=out_dir,
        seed=seed,
        data_seed=seed,
        learning_rate=settings["learning_rate"],
        num_train_epochs=settings["epochs"],
        per_device_train_batch_size=settings["per_device_batch_size"],
        gradient_accumulation_steps=settings["gradient_accumulation_steps"],
        lr_scheduler_type=settings["lr_scheduler"],
        warmup_steps=settings["warmup_ratio"],
        weight_decay=settings["weight_decay"],
        bf16=settings["bf16"],
        logging_steps=5,
        save_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )


def train_sft(model, tokenizer, examples: list[dict], settings: dict, seed: int, out_dir: str):
    """SFT on the sampled token ids themselves, loss on the response tokens only."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"input_ids": e["input_ids"], "completion_mask": e["response_mask"]} for e in examples])
    args = SFTConfig(
        **training_arguments(settings, seed, out_dir), max_length=settings["cutoff_len"], completion_only_loss=True
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    return trainer, trainer.train()


def train_dpo(model, tokenizer, pairs: list[dict], settings: dict, seed: int, out_dir: str):
    """DPO with rows of prompt (the rendered chat prompt), chosen and rejected response text.

    Reference log-probs are computed once before training (`precompute_ref_log_probs`), as for
    O1-Pruner, so no second model is kept for the training steps.
    """
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        **training_arguments(settings, seed, out_dir),
        max_length=settings["cutoff_len"],
        beta=settings.get("dpo_beta", 0.1),
        precompute_ref_log_probs=True,
    )
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(pairs), processing_class=tokenizer)
    return trainer, trainer.train()
