"""The on-policy methods on TRL's `GRPOTrainer`: one reward function over every length objective.

TRL calls a reward function with its own process's slice of the rollouts only
(huggingface/trl#3896): with several processes the G responses to one prompt can sit on
different ranks, so a reward that reads the group (its shortest correct length, its length
range) would see part of it. `GroupRewards` gathers every rank's graded rollouts first, scores
whole groups, and hands each rank back its own slice. TRL orders the generation batch by
process, each prompt's G responses consecutive, so global row i belongs to group i // G; the
problem ids of each group are checked to be one.
"""

from __future__ import annotations

import numpy as np

from ..console import trainer_progress_callback
from ..grading import grade
from ..io import InputError
from ..length_rewards import OBJECTIVES, group_rewards
from .registry import TrainerEntry, register_trainer


def eos_ids(model, tokenizer) -> list[int]:
    """The ids that end a completion, as TRL counts them: the model's end ids and the tokenizer's."""
    ids = model.generation_config.eos_token_id
    ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
    return sorted({*ids, tokenizer.eos_token_id} - {None})


def _gather_rows(rows: list[dict]) -> tuple[list[dict], int]:
    """Every process's rows in process order, and where this process's rows start."""
    from accelerate import PartialState
    from accelerate.utils import gather_object

    state = PartialState()
    if state.num_processes == 1:
        return rows, 0
    return gather_object(rows), state.process_index * len(rows)


def _rank() -> int:
    from accelerate import PartialState

    return PartialState().process_index


class GroupRewards:
    """A TRL reward function: grade the completions, score each prompt's whole group with one
    objective of `length_rewards`, return this process's rewards.

    Dataset columns it reads: `problem_id`, `answer`, `ref_mean_tokens`, `ref_accuracy`.
    `rollouts` keeps every rollout of the run (all processes': the rows are gathered for every
    objective, so the record is whole): generation batch, rank, problem, length, grade, reward, and
    the reward its process returned to TRL."""

    def __init__(self, objective: str, settings: dict, num_generations: int, end_ids, answer_box: str, gather=None):
        if OBJECTIVES[objective].group and num_generations < 2:
            raise InputError(
                f"the {objective} reward compares the responses to one prompt, but training.grpo.generations "
                f"is {num_generations}: it needs at least 2"
            )
        self.objective, self.settings = objective, settings
        self.num_generations = num_generations
        self.end_ids = set(end_ids)
        self.answer_box = answer_box
        self.gather = gather or _gather_rows
        self.rank = _rank if gather is None else (lambda: 0)
        self.rollouts: list[dict] = []
        self.calls = 0
        self.__name__ = f"{objective}_reward"  # TRL logs each reward function under its name

    def __call__(self, prompts, completions, completion_ids, problem_id, answer, ref_mean_tokens, ref_accuracy, **kw):
        rank = self.rank()
        local = [
            {
                "rank": rank,
                "problem_id": pid,
                "n_tokens": len(ids),
                "correct": grade(_text(c), gold, self.answer_box).correct,
                "finished": bool(ids) and ids[-1] in self.end_ids,
                "ref_mean_tokens": float(ref_len),
                "ref_accuracy": float(ref_acc),
            }
            for c, ids, pid, gold, ref_len, ref_acc in zip(
                completions, completion_ids, problem_id, answer, ref_mean_tokens, ref_accuracy, strict=True
            )
        ]
        rows, start = self.gather(local)
        rewards = np.concatenate(group_rewards(self.objective, self.groups(rows), self.settings))
        mine = [float(x) for x in rewards[start : start + len(local)]]
        # What each process hands back to TRL, gathered like the rows: the record shows every
        # rollout's reward as its own process returned it (equal to `reward` when the slicing is right).
        handed, _ = self.gather([{"returned_reward": x} for x in mine])
        self.rollouts += [
            {"generation_batch": self.calls, **r, "reward": float(x), "returned_reward": h["returned_reward"]}
            for r, x, h in zip(rows, rewards, handed, strict=True)
        ]
        self.calls += 1
        log_metric = kw.get("log_metric")
        if log_metric is not None:  # what the policy does now, over every process's rollouts
            log_metric("rollout/accuracy", float(np.mean([r["correct"] for r in rows])))
            log_metric("rollout/tokens", float(np.mean([r["n_tokens"] for r in rows])))
        return mine

    def groups(self, rows: list[dict]) -> list[dict]:
        """The rows (all processes', in order) as groups of G, checked to be one prompt each."""
        g = self.num_generations
        if len(rows) % g:
            raise RuntimeError(f"{len(rows)} rollouts do not split into groups of {g}")
        groups = []
        for i in range(0, len(rows), g):
            part = rows[i : i + g]
            if len({r["problem_id"] for r in part}) != 1:
                raise RuntimeError(
                    f"rollouts {i}..{i + g - 1} are not one prompt's group: {[r['problem_id'] for r in part]}"
                )
            groups.append({k: np.array([r[k] for r in part]) for k in part[0] if k not in ("problem_id", "rank")})
        return groups


def _text(completion) -> str:
    """A completion's text: TRL gives a string, or the assistant message for chat prompts."""
    return completion if isinstance(completion, str) else completion[-1]["content"]


def prompt_rows(problems: list[dict], stats_by_id: dict, system_prompt: str | None) -> list[dict]:
    """GRPO's dataset: the chat prompt (the one prompt definition; TRL renders it with the same
    chat template as sampling) and the columns the reward reads."""
    from ..prompt import build_messages

    return [
        {
            "prompt": build_messages(p["problem"], system_prompt),
            "problem_id": p["id"],
            "answer": p["answer"],
            "ref_mean_tokens": float(stats_by_id[p["id"]]["mean_tokens"]),
            "ref_accuracy": float(stats_by_id[p["id"]]["accuracy"]),
        }
        for p in problems
    ]


def train_grpo(model, tokenizer, rows: list[dict], args, reward):
    """GRPO (`args`: a `GRPOConfig`) on prompt rows with `reward` (a `GroupRewards`)."""
    from datasets import Dataset
    from trl import GRPOTrainer

    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


def _arguments(common: dict, settings):
    from trl import GRPOConfig

    from .vllm_rollouts import vllm_arguments

    g = settings.grpo
    # global_batch_size counts rollouts per optimiser step (G per prompt); TRL generates one
    # step's rollouts at a time, so every group lies within one generation batch.
    return GRPOConfig(
        **common,
        num_generations=g.generations,
        max_completion_length=g.max_completion_length,
        temperature=g.temperature,
        beta=g.kl_beta,
        # Stated, not TRL's defaults, which have changed between releases.
        scale_rewards=g.scale_rewards,
        loss_type=g.loss_type,
        log_completions=False,
        **vllm_arguments(g.vllm_rollouts),
    )


def _train(job):
    from pathlib import Path

    import pandas as pd

    from ..distributed import is_main_process
    from .data import problem_rows
    from .vllm_rollouts import prepare_engine

    df = job.trainset
    missing = {"problem_id", "mean_tokens", "accuracy"} - set(df.columns)
    if missing:
        raise InputError(f"{job.trainset_path}: no {sorted(missing)[0]} column; make it with `o1pruner prompts`")
    problems = problem_rows(job.problems_path, df["problem_id"])
    stats = df.set_index("problem_id")[["mean_tokens", "accuracy"]].to_dict("index")
    rows = prompt_rows([problems[i] for i in df["problem_id"]], stats, job.settings.system_prompt)
    g = job.settings.grpo
    max_positions = getattr(job.model.config, "max_position_embeddings", None)
    prepare_engine(job.args, g.vllm_rollouts, job.tokenizer, [r["prompt"] for r in rows], max_positions)
    reward = GroupRewards(
        g.objective, g.objective_settings, g.generations, eos_ids(job.model, job.tokenizer), job.settings.answer_box
    )
    trained = train_grpo(job.model, job.tokenizer, rows, job.args, reward)
    if is_main_process():  # every rollout with its reward, beside the checkpoint (the compute ledger's tokens)
        pd.DataFrame(reward.rollouts).to_parquet(Path(job.args.output_dir) / "rollouts.parquet")
    return trained


register_trainer(TrainerEntry("grpo", ("reference_prompts",), _arguments, _train))
