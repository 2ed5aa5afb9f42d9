"""The report's tables, one function each, from the evaluation metrics and samples.

Runs are named as `o1pruner.runs` says: `reference`, a control, or `<method>-seed<N>`. Methods
trained with several seeds are reported as the mean over seeds, with the spread.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ..aes import aes_formula, aes_published
from ..runs import DIFFICULTY_BANDS, REFERENCE, UnknownName, band_variant, split_run
from ..runs import method as registered_method
from .markdown import to_markdown


def _method_or_none(name: str):
    try:
        return registered_method(name)
    except UnknownName:
        return None


def load_runs(metric_paths: list[str]) -> pd.DataFrame:
    rows = []
    for path in metric_paths:
        m = json.loads(Path(path).read_text())
        method, seed = split_run(m["run"])
        rows.append(
            {
                "run": m["run"],
                "method": method,
                "seed": seed,
                "dataset": m["dataset"],
                "n_problems": m["n_problems"],
                "accuracy": m["accuracy"],
                # metrics written before the flexible rule existed have none
                "accuracy_flexible": m.get("accuracy_flexible", float("nan")),
                "mean_tokens": m["mean_tokens"],
                "unparseable_rate": m["unparseable_rate"],
                "truncated_rate": m["truncated_rate"],
                "wall_time_s": m["wall_time_s"],
                "by_level": m.get("by_level"),
                **_thinking_fields(m),
            }
        )
    out = pd.DataFrame(rows)
    out["seed"] = out["seed"].astype("Int64")
    return out


def _thinking_fields(metrics: dict) -> dict:
    t = metrics.get("thinking")
    if t is None:
        return {}
    return {
        "mean_thinking_tokens": t["mean_thinking_tokens"],
        "mean_answer_tokens": t["mean_answer_tokens"],
        "thinking_closed_rate": t["closed_rate"],
    }


def main_table(runs: pd.DataFrame, model: str, reference_method: str = REFERENCE) -> pd.DataFrame:
    """Mean over seeds per method and dataset, AES against the reference of the same dataset."""
    g = runs.groupby(["method", "dataset"], sort=False)
    table = g.agg(
        n_problems=("n_problems", "first"),
        accuracy=("accuracy", "mean"),
        mean_tokens=("mean_tokens", "mean"),
        accuracy_std=("accuracy", "std"),
        mean_tokens_std=("mean_tokens", "std"),
        n_seeds=("run", "size"),
        unparseable_rate=("unparseable_rate", "mean"),
        truncated_rate=("truncated_rate", "mean"),
        wall_time_s=("wall_time_s", "mean"),
        marker_rate=("marker_rate", "mean"),
        accuracy_flexible=("accuracy_flexible", "mean"),
    ).reset_index()
    # With a thinking block: the share of responses cut off before closing it (no answer given).
    if "thinking_closed_rate" in runs:
        table["thinking_unclosed_rate"] = 100 - g["thinking_closed_rate"].mean().to_numpy()
    base = table[table["method"] == reference_method].set_index("dataset")
    table["aes"] = [
        aes_published(r.accuracy, r.mean_tokens, base.at[r.dataset, "accuracy"], base.at[r.dataset, "mean_tokens"])
        for r in table.itertuples()
    ]
    table["aes_formula"] = [
        aes_formula(r.accuracy, r.mean_tokens, base.at[r.dataset, "accuracy"], base.at[r.dataset, "mean_tokens"])
        for r in table.itertuples()
    ]
    table["token_ratio"] = [r.mean_tokens / base.at[r.dataset, "mean_tokens"] for r in table.itertuples()]
    table.insert(0, "model", model)
    cols = [
        "model",
        "method",
        "dataset",
        "n_problems",
        "accuracy",
        "mean_tokens",
        "aes",
        "aes_formula",
        "token_ratio",
        "accuracy_std",
        "mean_tokens_std",
        "n_seeds",
        "unparseable_rate",
        "truncated_rate",
        *(["thinking_unclosed_rate"] if "thinking_unclosed_rate" in table else []),
        "accuracy_flexible",
        "marker_rate",
        "wall_time_s",
    ]
    return table[cols]


# Our dataset names -> the column labels of the paper's Table 2.
PAPER_DATASETS = {"math": "MATH", "math500": "MATH", "gsm8k": "GSM8K", "gaokao": "GaoKao"}


def attach_published(main: pd.DataFrame, paper_name: str | None) -> pd.DataFrame:
    """Add the paper's Table 2 accuracy, length and AES for the same model, method and dataset."""
    if not paper_name:
        return main
    from importlib import resources

    table = pd.read_csv(resources.files("o1pruner.paper_data") / "table2_main_results.csv")
    table = table[table["model"] == paper_name].rename(
        columns={"accuracy": "paper_accuracy", "length": "paper_mean_tokens", "aes": "paper_aes"}
    )
    keyed = main.assign(_paper_dataset=main["dataset"].map(PAPER_DATASETS))
    merged = keyed.merge(
        table[["method", "dataset", "paper_accuracy", "paper_mean_tokens", "paper_aes"]].rename(
            columns={"dataset": "_paper_dataset"}
        ),
        on=["method", "_paper_dataset"],
        how="left",
    )
    return merged.drop(columns=["_paper_dataset"])


def length_interval_table(presamples: pd.DataFrame, n_intervals: int = 4) -> pd.DataFrame:
    """The paper's Table 1 analysis on the pre-samples: within each problem, samples are ranked
    by length and cut into `n_intervals` equal groups (1 = shortest); accuracy per group is
    averaged over problems. Problems with fewer samples than groups are skipped."""
    rows = []
    for _, g in presamples.groupby("problem_id", sort=False):
        if len(g) < n_intervals:
            continue
        ranked = g.sort_values(["n_tokens", "sample_idx"], kind="stable").reset_index(drop=True)
        interval = (ranked.index * n_intervals // len(ranked)) + 1
        for i, part in ranked.groupby(interval):
            rows.append(
                {"interval": int(i), "accuracy": 100 * part["correct"].mean(), "mean_tokens": part["n_tokens"].mean()}
            )
    if not rows:
        return pd.DataFrame(columns=["interval", "accuracy", "mean_tokens", "n_problems"])
    df = pd.DataFrame(rows)
    return (
        df.groupby("interval")
        .agg(accuracy=("accuracy", "mean"), mean_tokens=("mean_tokens", "mean"), n_problems=("accuracy", "size"))
        .reset_index()
    )


def by_level_table(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in runs.itertuples():
        for level, v in (r.by_level or {}).items():
            rows.append(
                {
                    "method": r.method,
                    "seed": r.seed,
                    "dataset": r.dataset,
                    "level": int(level),
                    "n": v["n"],
                    "accuracy": v["accuracy"],
                    "mean_tokens": v["mean_tokens"],
                }
            )
    if not rows:
        return pd.DataFrame(columns=["method", "dataset", "level", "n", "accuracy", "mean_tokens"])
    df = pd.DataFrame(rows)
    return (
        df.groupby(["method", "dataset", "level"], sort=False)
        .agg(
            n=("n", "first"),
            accuracy=("accuracy", "mean"),
            accuracy_std=("accuracy", "std"),
            mean_tokens=("mean_tokens", "mean"),
            mean_tokens_std=("mean_tokens", "std"),
        )
        .reset_index()
    )


def flips_table(samples: pd.DataFrame, reference_run: str = REFERENCE) -> pd.DataFrame:
    """Paired comparison per run: problems only the reference solves vs only the run solves."""
    ref = samples[samples["run"] == reference_run].set_index(["dataset", "problem_id"])["correct"]
    rows = []
    for run, g in samples[samples["run"] != reference_run].groupby("run", sort=False):
        cur = g.set_index(["dataset", "problem_id"])["correct"]
        both = ref.index.intersection(cur.index)
        r, c = ref.loc[both].astype(bool), cur.loc[both].astype(bool)
        method, seed = split_run(run)
        rows.append(
            {
                "run": run,
                "method": method,
                "seed": seed,
                "n": len(both),
                "only_reference_correct": int((r & ~c).sum()),
                "only_run_correct": int((~r & c).sum()),
                "both_correct": int((r & c).sum()),
                "neither_correct": int((~r & ~c).sum()),
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out["seed"] = out["seed"].astype("Int64")
    return out


def marker_rates(samples: pd.DataFrame, markers: list[str]) -> pd.Series:
    """Percent of responses per run that contain an overthinking marker ("Wait,")."""
    if not markers:
        return pd.Series(dtype=float)
    has = samples["response"].str.contains("|".join(map(re.escape, markers)), regex=True)
    return 100 * has.groupby(samples["run"]).mean()


def reference_profile(runs: pd.DataFrame, stats: pd.DataFrame | None, sampled: pd.DataFrame | None) -> pd.DataFrame:
    """What the reference model is like: the properties a pruning experiment relies on."""
    rows = []
    for dataset, g in runs.groupby("dataset", sort=False):
        greedy = g[g["run"] == REFERENCE]
        if greedy.empty:
            continue
        greedy = greedy.iloc[0]
        levels = greedy["by_level"] or {}
        rows.append({"dataset": dataset, "quantity": "greedy accuracy (%)", "value": f"{greedy['accuracy']:.1f}"})
        mine = sampled[(sampled["run"] == REFERENCE) & (sampled["dataset"] == dataset)] if sampled is not None else []
        if len(mine):
            r = mine.iloc[0]
            rows.append(
                {
                    "dataset": dataset,
                    "quantity": f"sampled accuracy (%), avg@{r['samples_per_problem']} at T={r['temperature']:g}, "
                    "95% interval",
                    "value": f"{r['accuracy']:.1f} [{r['accuracy_ci_low']:.1f}, {r['accuracy_ci_high']:.1f}]",
                }
            )
        rows.append(
            {
                "dataset": dataset,
                "quantity": "greedy responses with an overthinking marker (%)",
                "value": f"{greedy['marker_rate']:.1f}",
            }
        )
        rows.append({"dataset": dataset, "quantity": "greedy mean tokens", "value": f"{greedy['mean_tokens']:.1f}"})
        for lv in sorted(levels, key=int):
            rows.append(
                {
                    "dataset": dataset,
                    "quantity": f"level {lv}: greedy accuracy (%) / mean tokens",
                    "value": f"{levels[lv]['accuracy']:.1f} / {levels[lv]['mean_tokens']:.1f}",
                }
            )
    if stats is not None and len(stats):
        cv = (stats["std_tokens"] / stats["mean_tokens"]).mean()
        rows.append({"dataset": "pre-samples", "quantity": "within-problem token std / mean", "value": f"{cv:.3f}"})
        rows.append(
            {
                "dataset": "pre-samples",
                "quantity": "sampled accuracy (%)",
                "value": f"{100 * stats['accuracy'].mean():.1f}",
            }
        )
        if "level" in stats:
            for lv, s in stats.groupby("level"):
                rows.append(
                    {
                        "dataset": "pre-samples",
                        "quantity": f"level {lv}: accuracy (%) / mean tokens",
                        "value": f"{100 * s['accuracy'].mean():.1f} / {s['mean_tokens'].mean():.1f}",
                    }
                )
    return pd.DataFrame(rows, columns=["dataset", "quantity", "value"])


def with_average(main: pd.DataFrame) -> pd.DataFrame:
    """Append, per method, an `average` row: the mean over test sets of accuracy, tokens and AES
    (as the paper's AVERAGE column: the mean of per-dataset AES, not the AES of the means)."""
    if main["dataset"].nunique() < 2:
        return main
    cols = ["accuracy", "mean_tokens", "aes", "aes_formula", "token_ratio"]
    cols += [c for c in ("accuracy_flexible",) if c in main]
    avg = main.groupby(["model", "method"], sort=False)[cols].mean().reset_index()
    avg["dataset"] = "average"
    avg["n_problems"] = main.groupby(["model", "method"], sort=False)["n_problems"].sum().to_numpy()
    return pd.concat([main, avg], ignore_index=True)


def lambda_table(scored: pd.DataFrame, main_lambda: float | None) -> pd.DataFrame:
    """Table 3: O1-Pruner per lambda, accuracy / tokens / AES averaged over the test sets."""
    rows = []
    for method, g in scored.groupby("method", sort=False):
        entry = _method_or_none(method)
        if entry is not None and entry.ablation == "lambda":
            lam = float(entry.reward["lambda"])
        elif method == "o1_pruner" and main_lambda is not None:
            lam = float(main_lambda)
        else:
            continue
        rows.append(
            {
                "lambda": lam,
                "method": method,
                "n_datasets": len(g),
                "avg_accuracy": g["accuracy"].mean(),
                "avg_mean_tokens": g["mean_tokens"].mean(),
                "avg_aes_formula": g["aes_formula"].mean(),
                "avg_aes_published": g["aes"].mean(),
            }
        )
    # The paper's formula ranks (an accuracy drop costs gamma = 5 per unit); the published form,
    # which rewards |dA| either way, is beside it for comparison with the paper's printed numbers.
    cols = ["lambda", "method", "n_datasets", "avg_accuracy", "avg_mean_tokens", "avg_aes_formula", "avg_aes_published"]
    return pd.DataFrame(rows, columns=cols).sort_values("lambda").reset_index(drop=True)


def difficulty_table(scored: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Figure 4: O1-Pruner trained on the hardest / middle / easiest problems (by pre-sampled
    accuracy) against training on all of them; accuracy and tokens overall and on the hardest level."""
    bands = [band_variant(band).name for band in DIFFICULTY_BANDS]
    order = {name: i for i, name in enumerate([*bands, "o1_pruner", REFERENCE])}
    keep = scored[scored["method"].isin(order)].copy()
    if not keep["method"].isin(bands).any():
        return pd.DataFrame(columns=["method", "dataset", "accuracy", "mean_tokens"])
    hardest = levels.sort_values("level").groupby(["method", "dataset"]).tail(1)
    keep = keep.merge(
        hardest[["method", "dataset", "level", "accuracy", "mean_tokens"]].rename(
            columns={"level": "hardest_level", "accuracy": "hardest_accuracy", "mean_tokens": "hardest_mean_tokens"}
        ),
        on=["method", "dataset"],
        how="left",
    )
    keep["_order"] = keep["method"].map(order)
    cols = [
        "method",
        "dataset",
        "accuracy",
        "mean_tokens",
        "aes_formula",
        "aes",
        "hardest_level",
        "hardest_accuracy",
        "hardest_mean_tokens",
    ]
    return keep.sort_values(["dataset", "_order"])[cols].reset_index(drop=True)


def headline(main: pd.DataFrame) -> str:
    """The short table a README shows: display names, mean ± std over seeds, the paper's AES."""
    from .names import dataset_label, method_label

    rows = []
    several = main["dataset"].nunique() > 1
    for r in main.itertuples():
        seeds = int(r.n_seeds) if pd.notna(r.n_seeds) else 1
        acc = f"{r.accuracy:.2f}" + (f" ± {r.accuracy_std:.2f}" if seeds > 1 else "")
        tok = f"{r.mean_tokens:.1f}" + (f" ± {r.mean_tokens_std:.1f}" if seeds > 1 else "")
        name = f"**{method_label(r.method)}**" if r.method == "o1_pruner" else method_label(r.method)
        row = {"test set": dataset_label(r.dataset)} if several else {}
        row.update(
            {
                "method": name,
                "accuracy (%)": acc,
                "tokens": tok,
                "tokens vs reference": f"{r.token_ratio:.2f}x",
                "AES": f"{r.aes_formula:.2f}",
                "seeds": seeds,
            }
        )
        rows.append(row)
    return to_markdown(pd.DataFrame(rows)) + "\n"
