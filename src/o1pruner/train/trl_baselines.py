"""The paper's SFT and DPO baselines and SimPO-style preference training, on TRL's trainers,
from the same pre-samples."""

from __future__ import annotations

import torch

from ..console import trainer_progress_callback
from ..distributed import is_main_process, process_count
from .registry import TrainerEntry, register_trainer


def train_sft(model, tokenizer, examples: list[dict], args):
    """SFT on the sampled token ids themselves, loss on the response tokens only (`args`: an
    `SFTConfig` with `completion_only_loss`)."""
    from datasets import Dataset
    from trl import SFTTrainer

    data = Dataset.from_list([{"input_ids": e["input_ids"], "completion_mask": e["response_mask"]} for e in examples])
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


def dpo_pairs(tokenizer, pairs_df, problems: dict[str, str], system_prompt: str | None) -> list[dict]:
    """DPO rows from the selected pairs (`baseline_data.shortest_vs_longest`): the prompt as
    sampling rendered it, the chosen and the rejected response text."""
    from ..prompt import render_prompt

    return [
        {
            "prompt": render_prompt(tokenizer, problems[r.problem_id], system_prompt),
            "chosen": r.chosen,
            "rejected": r.rejected,
        }
        for r in pairs_df.itertuples()
    ]


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


def train_dpo(model, tokenizer, pairs: list[dict], args, shared_dir: str | None = None):
    """DPO with rows of prompt (the rendered chat prompt), chosen and rejected response text
    (`args`: a `DPOConfig`)."""
    from trl import DPOTrainer

    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=_pairs_dataset(pairs, shared_dir),
        processing_class=tokenizer,
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


def train_simpo(model, tokenizer, pairs: list[dict], args):
    """SimPO (arXiv 2405.14734) on DPO-style rows, through TRL's CPOTrainer (`args`: a
    `CPOConfig` with `loss_type="simpo"`):

        L = -log sigmoid(beta / |y_w| * log pi(y_w|x) - beta / |y_l| * log pi(y_l|x) - gamma)

    No reference model: the length-normalised log-likelihood is the implicit reward."""
    from datasets import Dataset
    from trl.experimental.cpo import CPOTrainer

    trainer = CPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(pairs),
        processing_class=tokenizer,
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


def _sft_arguments(common: dict, settings):
    from trl import SFTConfig

    return SFTConfig(**common, max_length=settings.cutoff_len, completion_only_loss=True)


def _dpo_arguments(common: dict, settings):
    from trl import DPOConfig

    # Reference log-probs computed once before training, as for O1-Pruner, so no second model is
    # kept for the training steps.
    return DPOConfig(**common, max_length=settings.cutoff_len, beta=settings.dpo_beta, precompute_ref_log_probs=True)


def _simpo_arguments(common: dict, settings):
    from trl.experimental.cpo import CPOConfig

    # SimPO: reference-free, the length-normalised log-likelihood margin against gamma; cpo_alpha
    # 0 leaves out CPO's extra NLL term (pure SimPO).
    return CPOConfig(
        **common,
        max_length=settings.cutoff_len,
        loss_type="simpo",
        cpo_alpha=0.0,
        beta=settings.simpo_beta,
        simpo_gamma=settings.simpo_gamma,
    )


def _train_sft(job):
    from .data import trainset_examples

    examples = trainset_examples(job.tokenizer, job.trainset, job.problems_path, job.settings)
    return train_sft(job.model, job.tokenizer, examples, job.args)


def _pairs(job) -> list[dict]:
    from .data import problem_texts

    problems = problem_texts(job.problems_path, job.trainset["problem_id"])
    return dpo_pairs(job.tokenizer, job.trainset, problems, job.settings.system_prompt)


def _train_dpo(job):
    import shutil
    from pathlib import Path

    shared = Path(job.out).parent / f".{Path(job.out).name}.dpo-pairs"
    try:
        return train_dpo(job.model, job.tokenizer, _pairs(job), job.args, str(shared))
    finally:
        if is_main_process():
            shutil.rmtree(shared, ignore_errors=True)


def _train_simpo(job):
    return train_simpo(job.model, job.tokenizer, _pairs(job), job.args)


register_trainer(TrainerEntry("sft", ("shortest_correct",), _sft_arguments, _train_sft))
register_trainer(TrainerEntry("dpo", ("shortest_vs_longest", "budget_pairs"), _dpo_arguments, _train_dpo))
register_trainer(TrainerEntry("simpo", ("shortest_vs_longest", "budget_pairs"), _simpo_arguments, _train_simpo))
