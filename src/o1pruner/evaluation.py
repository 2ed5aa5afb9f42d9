"""The evaluation stage: a test set decoded greedily, sampled, or under each thinking budget
with the model loaded once, graded, and summarised into the metrics the report reads."""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from .io import PROBLEM_REQUIRED, InputError, read_jsonl, write_json, write_parquet
from .settings import EvaluationSettings

log = logging.getLogger(__name__)


def decodings_from_args(problems: str | None, settings: dict | None, plan: dict | None) -> list:
    """The (problems file, settings) of each decoding: one from `--problems` and `--settings`, or
    those of a `--plan`, `{"common": {...}, "decodings": [{"problems": path, "settings": {...}}]}`,
    each decoding's settings being `common` updated with its own (the workflow's job per run)."""
    single = [problems is not None, settings is not None]
    if any(single) if plan is not None else not all(single):
        raise InputError("evaluate: give --problems and --settings (one decoding), or --plan (several)")
    if plan is None:
        return [(problems, EvaluationSettings.from_json(settings))]
    try:
        common, decodings = plan["common"], plan["decodings"]
        return [(d["problems"], EvaluationSettings.from_json({**common, **d["settings"]})) for d in decodings]
    except (KeyError, TypeError) as e:
        raise InputError(f"evaluate --plan: needs common and decodings [{{problems, settings}}, ...] ({e})") from None


def evaluate_command(*, model_path, problems, settings, plan, run, out, metrics_out, threads) -> None:
    """`o1pruner evaluate`: one decoding (`--problems`, `--settings`) or a `--plan` of several."""
    evaluate(model_path=model_path, decodings=decodings_from_args(problems, settings, plan), run=run, out=out,
             metrics_out=metrics_out, threads=threads)  # fmt: skip


def evaluate(
    *,
    model_path: str,
    decodings: list[tuple[str, EvaluationSettings]],
    run: str,
    out: list[str],
    metrics_out: list[str],
    threads: int | None,
) -> None:
    """Each (problems file, settings) decoded with the model loaded once (one vLLM engine start
    for all of a run's test sets and modes): greedy, sampled, or once per budget of
    `settings.budget_forcing`. `out` and `metrics_out` list every decoding's responses and
    metrics in order (a budget-forced decoding: one pair per budget)."""
    from .sampling.backends import load_generator

    steps = [
        (problems, settings, forcing)
        for problems, settings in decodings
        for forcing in (settings.budget_forcing.each() if settings.budget_forcing is not None else [None])
    ]
    if len(out) != len(steps) or len(metrics_out) != len(steps):
        raise InputError(
            f"evaluate: --out and --metrics need one path per decoding ({len(steps)}), got {len(out)} and "
            f"{len(metrics_out)}"
        )
    engine_keys = ("backend", "dtype", "vllm", "trust_remote_code")
    first = decodings[0][1]
    for problems, settings in decodings[1:]:
        differing = [k for k in engine_keys if getattr(settings, k) != getattr(first, k)]
        if differing:
            raise InputError(f"evaluate: the decoding of {problems} needs another engine ({', '.join(differing)})")
    tables = {path: read_jsonl(path, required=PROBLEM_REQUIRED) for path in dict.fromkeys(p for p, _ in decodings)}
    generator, tok = load_generator(model_path, first, threads)
    for (problems_path, settings, forcing), samples_path, metrics_path in zip(steps, out, metrics_out):
        one = dataclasses.replace(settings, budget_forcing=None)
        _evaluate_one(generator, tok, tables[problems_path], one, forcing, run, model_path, problems_path,
                      samples_path, metrics_path, threads)  # fmt: skip


def _evaluate_one(
    generator, tok, problems, settings, forcing, run, model_path, problems_path, out, metrics_out, threads
) -> None:
    from .sampling.run import grading_start_method, sample_and_grade

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
        grading_start=grading_start_method(settings.backend),
        thinking_end=settings.thinking_end,
        budget_forcing=forcing,
    )
    record_evaluation(df, settings, forcing, run, model_path, problems_path, wall, out, metrics_out)


def record_evaluation(
    df, settings, forcing, run, model_path, problems_path, wall, out, metrics_out, imported: dict | None = None
) -> None:
    """The responses file and the metrics the report reads, of one decoding (made here, or
    imported: then `imported` names the file and its checksum)."""
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
            **({"imported": imported} if imported else {}),
        }
    )
    label = run if forcing is None else f"{run} (thinking budget {forcing.budget})"
    log.info("%s: accuracy %.2f%%, mean tokens %.1f, %.1f s", label, metrics["accuracy"], metrics["mean_tokens"], wall)
    meta = {"stage": "evaluate", "run": run, "settings": recorded, **({"imported": imported} if imported else {})}
    write_parquet(df.drop(columns=["response_ids"]), out, meta)
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


def import_evaluation(
    *,
    model_path: str,
    problems_path: str,
    responses_path: str,
    fmt: str,
    settings: EvaluationSettings,
    run: str,
    out: str,
    metrics_out: str,
) -> None:
    """A run evaluated from another tool's responses to a test set (`evaluation.import`; formats
    in sampling/imported.py): every problem answered the same number of times, n; with n > 1 the
    metrics are avg@n and pass@k. Graded and counted as the workflow's own evaluations are."""
    from .sampling.imported import graded_import

    problems = read_jsonl(problems_path, required=PROBLEM_REQUIRED)
    df, counts, imported = graded_import(responses_path, fmt, problems, model_path, settings, per_problem=None)
    if len(set(counts)) != 1:
        raise InputError(
            f"{responses_path}: problems are answered {min(counts)} to {max(counts)} times; an imported evaluation "
            "needs the same number of responses for every problem"
        )
    n = counts[0]
    # pass@k for the k the file's n allows (the config's ks are checked against its own n)
    pass_k = [k for k in settings.pass_k if k <= n]
    recorded = dataclasses.replace(settings, num_samples=n, do_sample=n > 1, pass_k=pass_k)
    record_evaluation(df, recorded, None, run, f"imported: {responses_path}", problems_path, float("nan"), out,
                      metrics_out, imported=imported)  # fmt: skip
