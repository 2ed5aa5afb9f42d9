"""O1-Pruner fine-tuning on transformers `Trainer`.

`O1PrunerConfig` carries the method's hyperparameters next to `TrainingArguments`, and
`O1PrunerTrainer` overrides only `compute_loss`: the same code runs on one CPU, one GPU or
many GPUs under `accelerate launch` (DeepSpeed ZeRO included).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import torch
from transformers import Trainer, TrainingArguments

from .loss import length_harmonizing_loss, response_mean_logprobs
from .registry import TrainerEntry, register_trainer


@dataclass
class O1PrunerConfig(TrainingArguments):
    epsilon: float = field(default=0.2, metadata={"help": "PPO clip range epsilon of the ratio r = pi/pi_ref."})
    cutoff_len: int = field(default=3072, metadata={"help": "Maximum prompt+response tokens per training sequence."})
    ratio: str = field(
        default="token_mean",
        metadata={"help": "token_mean: exp(mean per-token log-prob difference), as released; sequence: "
                  "exp(summed difference) = pi(y|x) / pi_ref(y|x), as the paper's equations."},
    )  # fmt: skip
    remove_unused_columns: bool = field(default=False, metadata={"help": "Keep advantage and ref_logp columns."})


class O1PrunerTrainer(Trainer):
    """Trains on rows with `input_ids`, `response_mask`, `advantage` and `ref_logp`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The loss is a per-sequence mean: let Trainer divide by the accumulation steps.
        self.model_accepts_loss_kwargs = False
        self._metrics: dict[str, list[float]] = defaultdict(list)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        policy_logp = response_mean_logprobs(
            model, inputs["input_ids"], inputs["attention_mask"], inputs["response_mask"]
        )
        ref_logp = inputs["ref_logp"].to(policy_logp.dtype)  # the reference's mean over the same tokens
        if self.args.ratio == "sequence":  # sums: the mean times the response tokens predicted
            n_tokens = inputs["response_mask"][:, 1:].sum(-1).clamp(min=1).to(policy_logp.dtype)
            policy_logp, ref_logp = policy_logp * n_tokens, ref_logp * n_tokens
        loss, stats = length_harmonizing_loss(
            policy_logp, ref_logp, inputs["advantage"].to(policy_logp.dtype), self.args.epsilon
        )
        for k, v in stats.items():
            self._metrics[k].append(v.item())
        self._metrics["response_length"].append(inputs["response_mask"].sum(-1).float().mean().item())
        return (loss, policy_logp) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        for k, v in self._metrics.items():
            if v:
                logs[k] = sum(v) / len(v)
        self._metrics.clear()
        super().log(logs, start_time)


class ListDataset(torch.utils.data.Dataset):
    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]


def _arguments(common: dict, settings) -> O1PrunerConfig:
    return O1PrunerConfig(
        **common, epsilon=settings.epsilon, cutoff_len=settings.cutoff_len, ratio=settings.o1_pruner_ratio
    )


def _train(job):
    from ..console import trainer_progress_callback
    from ..io import InputError
    from .data import PaddingCollator, trainset_examples

    if "ref_logp" not in job.trainset.columns:
        raise InputError(f"{job.trainset_path}: no ref_logp column; make it with `o1pruner rewards` from drawn samples")
    examples = trainset_examples(job.tokenizer, job.trainset, job.problems_path, job.settings)
    for ex, adv, ref in zip(examples, job.trainset["advantage"], job.trainset["ref_logp"]):
        ex["advantage"], ex["ref_logp"] = float(adv), float(ref)
    trainer = O1PrunerTrainer(
        model=job.model,
        args=job.args,
        train_dataset=ListDataset(examples),
        data_collator=PaddingCollator(job.tokenizer.pad_token_id),
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


register_trainer(TrainerEntry("o1_pruner", ("length_harmonizing",), _arguments, _train))
