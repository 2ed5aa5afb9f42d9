"""The workflow's model stages: pre-sampling, statistics, training set, training, evaluation.

Each function reads its inputs, does one step and writes its outputs atomically, with the
settings (seeds included) recorded in the artifact's metadata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from .distributed import is_main_process, process_count
from .io import InputError, read_jsonl, write_json, write_parquet
from .settings import (
    BaselineTrainsetSettings,
    DrawSettings,
    EvaluationSettings,
    LogprobSettings,
    ModelSettings,
    PresampleSettings,
    RewardSettings,
    TrainingSettings,
)

log = logging.getLogger(__name__)

PROBLEM_REQUIRED = ("id", "problem", "answer")


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
    from .sampling.run import sample_and_grade

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
        grading_start=_grading_start(settings),
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


def _grading_start(settings) -> str:
    """Grading workers are forks, except beside a vLLM engine (its threads): from a fork server."""
    return "forkserver" if settings.backend == "vllm" else "fork"


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


def _problem_rows(problems_path: str, problem_ids) -> dict[str, dict]:
    """id -> row (id, problem, answer) of the problems file; every id asked for must be there."""
    problems = {p["id"]: p for p in read_jsonl(problems_path, required=PROBLEM_REQUIRED)}
    missing = sorted(set(problem_ids) - set(problems))
    if missing:
        raise InputError(f"{problems_path}: no problem with id {missing[0]!r} (and {len(missing) - 1} more)")
    return problems


def _problem_texts(problems_path: str, problem_ids) -> dict[str, str]:
    return {i: p["problem"] for i, p in _problem_rows(problems_path, problem_ids).items()}


def _examples(tok, trainset_df: pd.DataFrame, problems_path: str, settings) -> list[dict]:
    from .train.data import encode_examples

    problems = _problem_texts(problems_path, trainset_df["problem_id"])
    return encode_examples(
        tok,
        [problems[i] for i in trainset_df["problem_id"]],
        [list(r) for r in trainset_df["response_ids"]],
        settings.system_prompt,
        settings.cutoff_len,
    )


def reference_logprobs(
    *, model_path: str, samples_path: str, problems_path: str, settings: LogprobSettings, out: str, threads: int | None
) -> None:
    """The reference's mean token log-prob of each drawn sample (O1-Pruner's PPO ratio)."""
    from .train.logprobs import mean_logprobs

    df = pd.read_parquet(samples_path)
    model, tok = _load(model_path, settings, threads)
    examples = _examples(tok, df, problems_path, settings)
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
        hf_trainer, result = _train(trainer, model, tok, df, trainset_path, problems_path, settings, args, out)
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


def _train(trainer, model, tok, df, trainset_path, problems_path, settings, args, out):
    """Run the trainer; returns (the Trainer, its train() result)."""
    if trainer == "o1_pruner":
        return _train_o1_pruner(model, tok, df, trainset_path, problems_path, settings, args)
    if trainer == "sft":
        from .train.trl_baselines import train_sft

        return train_sft(model, tok, _examples(tok, df, problems_path, settings), args)
    if trainer == "grpo":
        return _train_grpo(model, tok, df, trainset_path, problems_path, settings, args)
    from .train.trl_baselines import dpo_pairs, train_dpo, train_simpo

    pairs = dpo_pairs(tok, df, _problem_texts(problems_path, df["problem_id"]), settings.system_prompt)
    if trainer == "simpo":
        return train_simpo(model, tok, pairs, args)
    shared = Path(out).parent / f".{Path(out).name}.dpo-pairs"
    try:
        return train_dpo(model, tok, pairs, args, str(shared))
    finally:
        if is_main_process():
            shutil.rmtree(shared, ignore_errors=True)


def _train_grpo(model, tok, df, trainset_path, problems_path, settings, args):
    from .train.grpo import GroupRewards, eos_ids, prompt_rows, train_grpo

    missing = {"problem_id", "mean_tokens", "accuracy"} - set(df.columns)
    if missing:
        raise InputError(f"{trainset_path}: no {sorted(missing)[0]} column; make it with `o1pruner prompts`")
    problems = _problem_rows(problems_path, df["problem_id"])
    stats = df.set_index("problem_id")[["mean_tokens", "accuracy"]].to_dict("index")
    rows = prompt_rows([problems[i] for i in df["problem_id"]], stats, settings.system_prompt)
    g = settings.grpo
    reward = GroupRewards(g.objective, g.objective_settings, g.generations, eos_ids(model, tok), settings.answer_box)
    trained = train_grpo(model, tok, rows, args, reward)
    if is_main_process():  # every rollout with its reward, beside the checkpoint (the compute ledger's tokens)
        pd.DataFrame(reward.rollouts).to_parquet(Path(args.output_dir) / "rollouts.parquet")
    return trained


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


def _train_o1_pruner(model, tok, df, trainset_path, problems_path, settings, args):

    from .console import trainer_progress_callback
    from .train.data import PaddingCollator
    from .train.o1_pruner import ListDataset, O1PrunerTrainer

    if "ref_logp" not in df.columns:
        raise InputError(f"{trainset_path}: no ref_logp column; make it with `o1pruner rewards` from drawn samples")
    examples = _examples(tok, df, problems_path, settings)
    for ex, adv, ref in zip(examples, df["advantage"], df["ref_logp"]):
        ex["advantage"], ex["ref_logp"] = float(adv), float(ref)
    trainer = O1PrunerTrainer(
        model=model,
        args=args,
        train_dataset=ListDataset(examples),
        data_collator=PaddingCollator(tok.pad_token_id),
        callbacks=[trainer_progress_callback()],
    )
    return trainer, trainer.train()


def evaluate(
    *,
    model_path: str,
    problems_path: str,
    settings: EvaluationSettings,
    run: str,
    out: list[str],
    metrics_out: list[str],
    threads: int | None,
) -> None:
    """Decodes the test set once, or once per budget of `settings.budget_forcing` with the model
    loaded once: `out[i]` and `metrics_out[i]` are the i-th decoding's responses and metrics."""
    from .sampling.backends import load_generator

    forcings = settings.budget_forcing.each() if settings.budget_forcing is not None else [None]
    if len(out) != len(forcings) or len(metrics_out) != len(forcings):
        raise InputError(
            f"evaluate: --out and --metrics need one path per decoding ({len(forcings)}), got {len(out)} and "
            f"{len(metrics_out)}"
        )
    problems = read_jsonl(problems_path, required=PROBLEM_REQUIRED)
    generator, tok = load_generator(model_path, settings, threads)
    for forcing, samples_path, metrics_path in zip(forcings, out, metrics_out):
        one = dataclasses.replace(settings, budget_forcing=None)
        _evaluate_one(generator, tok, problems, one, forcing, run, model_path, problems_path, samples_path,
                      metrics_path, threads)  # fmt: skip


def _evaluate_one(
    generator, tok, problems, settings, forcing, run, model_path, problems_path, out, metrics_out, threads
) -> None:
    from .sampling.run import sample_and_grade

    df, wall = sample_and_grade(
        generator,
        tok,
        problems,
        num_samples=settings.num_samples,
        do_sample=settings.do_sample,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
        seed=settings.seed,
        system_prompt=settings.system_prompt,
        fast_prompt=settings.fast_prompt,
        banned_phrases=settings.banned_phrases,
        answer_box=settings.answer_box,
        grading_workers=threads or 1,
        grading_start=_grading_start(settings),
        thinking_end=settings.thinking_end,
        budget_forcing=forcing,
    )
    df["run"] = run
    metrics = summarize(df)
    # Each file records the decoding that wrote it: one budget, not the job's list.
    recorded = {**settings.to_json(), **({"budget_forcing": forcing.to_json()} if forcing is not None else {})}
    if forcing is not None:
        forced = df[df["budget_forced"]]
        metrics["budget_forcing"] = {
            **forcing.to_json(),
            "forced_rate": float(100 * df["budget_forced"].mean()),
            # what the model spends after the budget closed its thinking (up to answer_max_tokens)
            "mean_answer_tokens_forced": float(forced["answer_tokens"].mean()) if len(forced) else float("nan"),
        }
    if settings.do_sample:
        from .sampled_metrics import sampled_metrics

        metrics["sampled"] = {
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            **sampled_metrics(df, settings.pass_k, settings.seed).as_dict(),
        }
    metrics.update(
        {
            "run": run,
            "model_path": model_path,
            "problems": problems_path,
            "wall_time_s": wall,
            "settings": recorded,
        }
    )
    label = run if forcing is None else f"{run} (thinking budget {forcing.budget})"
    log.info("%s: accuracy %.2f%%, mean tokens %.1f, %.1f s", label, metrics["accuracy"], metrics["mean_tokens"], wall)
    write_parquet(df.drop(columns=["response_ids"]), out, {"stage": "evaluate", "run": run, "settings": recorded})
    write_json(metrics, metrics_out)


def summarize(df: pd.DataFrame) -> dict:
    """Accuracy (%), mean tokens and failure rates over all responses (with n sampled responses
    per problem: avg@n), overall and per difficulty level."""
    out = {
        "dataset": str(df["dataset"].iloc[0]) if "dataset" in df and len(df) else None,
        "n_problems": int(df["problem_id"].nunique()),
        "accuracy": float(100 * df["correct"].mean()),
        **({"accuracy_flexible": float(100 * df["correct_flexible"].mean())} if "correct_flexible" in df else {}),
        "mean_tokens": float(df["n_tokens"].mean()),
        "unparseable_rate": float(100 * df["unparseable"].mean()),
        "truncated_rate": float(100 * df["truncated"].mean()),
    }
    if "thinking_tokens" in df:
        out["thinking"] = {
            "mean_thinking_tokens": float(df["thinking_tokens"].mean()),
            "mean_answer_tokens": float(df["answer_tokens"].mean()),
            "closed_rate": float(100 * df["thinking_closed"].mean()),
        }
    if "level" in df and df["level"].notna().all():
        out["by_level"] = {
            str(int(lv)): {
                "n": int(g["problem_id"].nunique()),
                "accuracy": float(100 * g["correct"].mean()),
                "mean_tokens": float(g["n_tokens"].mean()),
            }
            for lv, g in df.groupby("level")
        }
    return out


__all__ = [
    "presample",
    "merge_samples",
    "reference_stats",
    "draw",
    "rewards",
    "baseline_trainset",
    "reference_logprobs",
    "finetune",
    "evaluate",
    "summarize",
]
