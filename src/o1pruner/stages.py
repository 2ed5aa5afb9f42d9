"""The workflow's model stages: pre-sampling, statistics, training set, training, evaluation.

Each function reads its inputs, does one step and writes its outputs atomically, with the
settings (seeds included) recorded in the artifact's metadata.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd

from .distributed import is_main_process, process_count, release_process_group
from .io import PROBLEM_REQUIRED, InputError, read_jsonl, write_json, write_parquet
from .settings import (
    BaselineTrainsetSettings,
    DrawSettings,
    LogprobSettings,
    ModelSettings,
    PresampleSettings,
    RewardSettings,
    TrainingSettings,
)

log = logging.getLogger(__name__)


def _load(model_path: str, settings: ModelSettings, threads: int | None):
    from .models import load_model, load_tokenizer, set_threads

    set_threads(threads)
    tok = load_tokenizer(model_path, settings.trust_remote_code)
    model = load_model(model_path, settings.dtype, settings.trust_remote_code)
    return model, tok


def shard_range(n_problems: int, prompts_per_batch: int, shard: int, num_shards: int) -> tuple[int, int, int]:
    """Problems [start, end) of a shard and the index of its first generation batch.

    Shards are contiguous runs of whole batches of the unsharded run, and each batch is seeded
    by its global index, so the merged shards equal the unsharded samples exactly.
    """
    if not 0 <= shard < num_shards:
        raise InputError(f"shard {shard} is outside 0..{num_shards - 1}")
    n_batches = -(-n_problems // prompts_per_batch)
    if num_shards > n_batches:
        raise InputError(
            f"sampling.shards {num_shards} is more than the {n_batches} generation batch(es) of {n_problems} problems "
            f"({prompts_per_batch} per batch = sampling.batch_size // sampling.k): lower sampling.shards"
        )
    first, last = shard * n_batches // num_shards, (shard + 1) * n_batches // num_shards
    return first * prompts_per_batch, min(n_problems, last * prompts_per_batch), first


def presample(
    *,
    model_path: str,
    problems_path: str,
    settings: PresampleSettings,
    out: str,
    threads: int | None,
    shard: int,
    num_shards: int,
) -> None:
    from .sampling.backends import load_generator
    from .sampling.run import grading_start_method, sample_and_grade

    problems = read_jsonl(problems_path, required=PROBLEM_REQUIRED)
    prompts_per_batch = max(1, settings.batch_size // settings.k)
    start, end, first_batch = shard_range(len(problems), prompts_per_batch, shard, num_shards)
    problems = problems[start:end]
    log.info("shard %d of %d: problems %d..%d", shard, num_shards, start, end - 1)
    generator, tok = load_generator(model_path, settings, threads, first_index=start)
    df, wall = sample_and_grade(
        generator,
        tok,
        problems,
        num_samples=settings.k,
        do_sample=True,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
        seed=settings.seed,
        first_batch=first_batch,
        first_index=start,
        system_prompt=settings.system_prompt,
        answer_box=settings.answer_box,
        grading_workers=threads or 1,
        grading_start=grading_start_method(settings.backend),
        thinking_end=settings.thinking_end,
    )
    log.info("pre-sampling: accuracy %.3f, mean tokens %.1f, %.1f s", df["correct"].mean(), df["n_tokens"].mean(), wall)
    write_parquet(
        df,
        out,
        {
            "stage": "presample",
            "model": model_path,
            "settings": settings.to_json(),
            "shard": shard,
            "num_shards": num_shards,
            "wall_time_s": wall,
        },
    )


def import_samples(
    *, model_path: str, problems_path: str, responses_path: str, fmt: str, settings: PresampleSettings, out: str
) -> None:
    """The samples file of `presample`, from K responses per problem that another tool wrote
    (`sampling.import`; formats in sampling/imported.py): matched, tokenised, graded."""
    from .sampling.imported import graded_import

    problems = read_jsonl(problems_path, required=PROBLEM_REQUIRED)
    df, _, imported = graded_import(responses_path, fmt, problems, model_path, settings, settings.k)
    over = int((df["truncated"] & (df["n_tokens"] > settings.max_new_tokens)).sum())
    if over:
        log.warning("%d cut-off responses re-tokenise to more than sampling.max_new_tokens ids", over)
    log.info("imported %d responses of %d problems from %s: accuracy %.3f, mean tokens %.1f",
             len(df), len(problems), responses_path, df["correct"].mean(), df["n_tokens"].mean())  # fmt: skip
    write_parquet(
        df, out, {"stage": "presample", "model": model_path, "settings": settings.to_json(), "imported": imported}
    )


def merge_samples(*, shard_paths: list[str], out: str) -> None:
    """Concatenate shard files in shard order; the metadata keeps the shared settings only."""
    from .io import read_parquet_metadata

    frames = [pd.read_parquet(p) for p in shard_paths]
    meta = read_parquet_metadata(shard_paths[0])
    df = pd.concat(frames, ignore_index=True)
    if df.duplicated(["problem_id", "sample_idx"]).any():
        raise InputError(f"shards {shard_paths} overlap: a problem appears in more than one")
    write_parquet(df, out, {"stage": "presample", "model": meta.get("model"), "settings": meta.get("settings")})
    log.info("merged %d shards: %d samples of %d problems", len(shard_paths), len(df), df["problem_id"].nunique())


def reference_stats(*, samples_path: str, out: str) -> None:
    from .reference_stats import aggregate

    stats = aggregate(pd.read_parquet(samples_path))
    log.info(
        "%d problems: mean accuracy %.3f, mean tokens %.1f",
        len(stats),
        stats["accuracy"].mean(),
        stats["mean_tokens"].mean(),
    )
    write_parquet(stats, out, {"stage": "reference_stats", "samples": samples_path})


def draw(*, samples_path: str, stats_path: str, settings: DrawSettings, out: str) -> None:
    """The m samples per problem that a length-harmonizing method trains on."""
    from .reward import difficulty_band, draw_samples

    samples = pd.read_parquet(samples_path)
    if settings.difficulty_band:
        lo, hi = settings.difficulty_band
        keep = difficulty_band(pd.read_parquet(stats_path), lo, hi)
        samples = samples[samples["problem_id"].isin(keep)]
        log.info("difficulty band [%.2f, %.2f): %d problems", lo, hi, len(keep))
    drawn = draw_samples(samples, settings.samples_per_problem, settings.seed)
    log.info("drawn: %d samples of %d problems", len(drawn), drawn["problem_id"].nunique())
    write_parquet(drawn, out, {"stage": "draw", "settings": settings.to_json()})


def rewards(*, drawn_path: str, stats_path: str, settings: RewardSettings, out: str) -> None:
    """O1-Pruner's training set: the drawn samples with reward and advantage."""
    from .reward import add_rewards

    drawn = pd.read_parquet(drawn_path)
    if "ref_logp" not in drawn.columns:
        raise InputError(f"{drawn_path}: no ref_logp column; run `o1pruner ref-logprobs` on the drawn samples first")
    clip = tuple(settings.reward_clip) if settings.reward_clip else None
    try:
        df = add_rewards(
            drawn, pd.read_parquet(stats_path), settings.lambda_, clip, settings.normalize,
            settings.length_term or "ratio",
        )  # fmt: skip
    except ValueError as e:
        raise InputError(f"{stats_path}: {e}") from None
    log.info(
        "training set: %d samples of %d problems; reward mean %.3f, advantage std %.3f",
        len(df),
        df["problem_id"].nunique(),
        df["reward_raw"].mean(),
        df["advantage"].std(ddof=0),
    )
    write_parquet(df, out, {"stage": "rewards", "settings": settings.to_json()})


def reference_logprobs(
    *, model_path: str, samples_path: str, problems_path: str, settings: LogprobSettings, out: str, threads: int | None
) -> None:
    """The reference's mean token log-prob of each drawn sample (O1-Pruner's PPO ratio)."""
    from .train.data import trainset_examples
    from .train.logprobs import mean_logprobs

    df = pd.read_parquet(samples_path)
    model, tok = _load(model_path, settings, threads)
    examples = trainset_examples(tok, df, problems_path, settings)
    start = time.perf_counter()
    if process_count() > 1:
        # Under a multi-process launcher: each rank scores its share, rank 0 gathers and writes.
        import torch
        from accelerate import PartialState
        from accelerate.utils import gather_object

        state = PartialState(cpu=not torch.cuda.is_available())
        with state.split_between_processes(list(range(len(examples)))) as mine:
            values = mean_logprobs(model, [examples[i] for i in mine], tok.pad_token_id, settings.logprob_batch_size)
            scored = dict(zip(mine, values))
        scored = {i: v for part in gather_object([scored]) for i, v in part.items()}
        if not state.is_main_process:
            return
        df["ref_logp"] = [scored[i] for i in range(len(examples))]
    else:
        df["ref_logp"] = mean_logprobs(model, examples, tok.pad_token_id, settings.logprob_batch_size)
    log.info("reference log-probs of %d samples in %.1f s", len(df), time.perf_counter() - start)
    write_parquet(df, out, {"stage": "ref_logprobs", "model": model_path, "settings": settings.to_json()})


def baseline_trainset(*, samples_path: str, settings: BaselineTrainsetSettings, out: str) -> None:
    """A baseline method's training data (SFT samples, DPO pairs) from the pre-samples."""
    from .baseline_data import BUILDERS

    samples = pd.read_parquet(samples_path)
    df = BUILDERS[settings.data](samples, settings)
    if df.empty:
        raise InputError(f"{samples_path}: no correct sample in any problem, so no {settings.data} training data")
    log.info("%s: %d rows from %d problems", settings.data, len(df), df["problem_id"].nunique())
    write_parquet(df, out, {"stage": "baseline_trainset", "settings": settings.to_json()})


def finetune(
    *,
    trainer: str,
    model_path: str,
    trainset_path: str,
    problems_path: str,
    settings: TrainingSettings,
    seed: int,
    out: str,
    threads: int | None,
) -> None:
    from .models import load_model, load_tokenizer, set_threads
    from .train.arguments import method_arguments
    from .train.checkpoint import describe_placement, is_partitioned, save_checkpoint
    from .train.registry import TrainJob
    from .train.registry import trainer as trainer_entry

    df = pd.read_parquet(trainset_path)
    set_threads(threads)
    tok = load_tokenizer(model_path, settings.trust_remote_code)
    # Under a multi-process launcher every rank trains; only rank 0 writes the checkpoint folder.
    main_process = is_main_process()
    with _output_dir(out, main_process) as tmp:
        # The arguments before the model: under ZeRO-3 they activate DeepSpeed's config, so the
        # model is created partitioned over the processes rather than whole on every rank.
        args = method_arguments(trainer, settings, seed, str(tmp))
        # Training keeps fp32 master weights whatever model.dtype (the serving dtype) says; bf16
        # is autocast (training.bf16). Only pure_bf16 trains the bf16 weights themselves. No
        # device move here: the Trainer places the model on its own process's device.
        model = load_model(
            model_path,
            "bfloat16" if settings.pure_bf16 else "float32",
            settings.trust_remote_code,
            device=None,
            attn_implementation=settings.attn_implementation,
        )
        created_partitioned = is_partitioned(model)
        log.info("model %s", describe_placement(model))
        model.train()
        model = _trainable(model, settings)
        job = TrainJob(model, tok, df, trainset_path, problems_path, settings, args, out)
        hf_trainer, result = trainer_entry(trainer).train(job)
        # The Trainer, not this function, put the model on its device: say which, for the log reader.
        log.info("trained with %s on %s, seed %d: %s", trainer, hf_trainer.args.device, seed, result.metrics)
        deepspeed = bool(getattr(hf_trainer, "is_deepspeed_enabled", False))
        final = hf_trainer.model
        if settings.finetuning == "lora":
            from .train.lora import merged

            final = merged(final)
        update = save_checkpoint(final, str(tmp), model_path, settings.save_dtype, deepspeed, main_process)
        if main_process:
            tok.save_pretrained(str(tmp))
            write_json(
                {
                    "trainer": trainer,
                    "seed": seed,
                    "settings": settings.to_json(),
                    "processes": process_count(),
                    "device": str(hf_trainer.args.device),
                    "distributed_type": str(hf_trainer.accelerator.state.distributed_type),
                    "created_partitioned": created_partitioned,
                    "weight_update": update,
                    "metrics": result.metrics,
                    "log_history": hf_trainer.state.log_history,
                },
                tmp / "o1pruner_training.json",
            )
    release_process_group()


def _trainable(model, settings: TrainingSettings):
    """The model with only what `training.finetuning` trains left trainable (LoRA: wrapped)."""
    finetuning = settings.finetuning
    if finetuning == "freeze" or (finetuning == "full" and settings.trainable_last_layers):
        from .train.freeze import train_only_last_layers

        if not settings.trainable_last_layers:
            raise InputError("training.finetuning is freeze but training.trainable_last_layers is not set")
        train_only_last_layers(model, settings.trainable_last_layers)
    elif finetuning == "lora":
        from .train.lora import add_lora

        model = add_lora(model, settings.lora_r, settings.lora_alpha, settings.lora_dropout)
    return model


def online_prompts(*, stats_path: str, problems_path: str, out: str) -> None:
    """The on-policy methods' training set: every training problem with its reference model's
    mean length and accuracy over the K pre-samples (the O1-Pruner reward's L_ref and A_ref)."""
    stats = pd.read_parquet(stats_path)
    ids = [p["id"] for p in read_jsonl(problems_path, required=PROBLEM_REQUIRED)]
    missing = sorted(set(ids) - set(stats["problem_id"]))
    if missing:
        raise InputError(f"{stats_path}: no reference statistics for problem {missing[0]!r} of {problems_path}")
    df = stats.set_index("problem_id").loc[ids, ["mean_tokens", "accuracy"]].reset_index()
    log.info("%d prompts with reference statistics", len(df))
    write_parquet(df, out, {"stage": "prompts"})


@contextlib.contextmanager
def _output_dir(out: str, main_process: bool):
    """The checkpoint folder, written atomically by the main process; a throwaway folder for
    the other ranks (their `save_model` calls take part in gathering sharded weights)."""
    from .io import atomic_path

    if main_process:
        with atomic_path(out, is_dir=True) as tmp:
            yield tmp
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp)


__all__ = [
    "presample",
    "import_samples",
    "merge_samples",
    "reference_stats",
    "draw",
    "rewards",
    "baseline_trainset",
    "reference_logprobs",
    "finetune",
]
