"""Tables and figures from the evaluation artifacts.

Runs are named `baseline` (the reference model), a control (`marker_ban`: the reference
decoded with its overthinking marker banned) or `<method>-seed<N>` (a fine-tuned model).
Methods trained with several seeds are reported as the mean over seeds, with the spread.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd

from ..aes import aes_formula, aes_published
from ..io import atomic_path, write_json
from .figures import write_figures
from .markdown import to_markdown
from .provenance import collect_provenance
from .runs import split_run

log = logging.getLogger(__name__)


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
                "mean_tokens": m["mean_tokens"],
                "unparseable_rate": m["unparseable_rate"],
                "truncated_rate": m["truncated_rate"],
                "wall_time_s": m["wall_time_s"],
                "by_level": m.get("by_level"),
            }
        )
    out = pd.DataFrame(rows)
    out["seed"] = out["seed"].astype("Int64")
    return out


# Runs that describe the reference rather than compete with it: kept out of the main table.
PROFILE_RUNS = {"baseline_sampled"}


def main_table(runs: pd.DataFrame, model: str, reference_method: str = "baseline") -> pd.DataFrame:
    """Mean over seeds per method and dataset, AES against the reference of the same dataset."""
    runs = runs[~runs["run"].isin(PROFILE_RUNS)]
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
    ).reset_index()
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
        "marker_rate",
        "wall_time_s",
    ]
    return table[cols]


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
        )
        .reset_index()
    )


def flips_table(samples: pd.DataFrame, reference_run: str = "baseline") -> pd.DataFrame:
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


def reference_profile(runs: pd.DataFrame, stats: pd.DataFrame | None) -> pd.DataFrame:
    """What the reference model is like: the properties a pruning experiment relies on."""
    rows = []
    for dataset, g in runs.groupby("dataset", sort=False):
        greedy = g[g["run"] == "baseline"]
        sampled = g[g["run"] == "baseline_sampled"]
        if greedy.empty:
            continue
        greedy = greedy.iloc[0]
        levels = greedy["by_level"] or {}
        rows.append({"dataset": dataset, "quantity": "greedy accuracy (%)", "value": f"{greedy['accuracy']:.1f}"})
        if not sampled.empty:
            rows.append(
                {"dataset": dataset, "quantity": "sampled accuracy (%)", "value": f"{sampled.iloc[0]['accuracy']:.1f}"}
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


def build_report(
    metric_paths: list[str],
    sample_paths: list[str],
    reference_run: str,
    out_dir: str,
    figures_dir: str,
    provenance: dict,
    stats_path: str | None = None,
    markers: list[str] = (),
) -> None:
    runs = load_runs(metric_paths)
    samples = pd.concat(
        [
            pd.read_parquet(p, columns=["run", "dataset", "problem_id", "level", "n_tokens", "correct", "response"])
            for p in sample_paths
        ],
        ignore_index=True,
    )
    runs["marker_rate"] = runs["run"].map(marker_rates(samples, list(markers)))
    stats = pd.read_parquet(stats_path) if stats_path else None
    profile = reference_profile(runs, stats)
    samples = samples[~samples["run"].isin(PROFILE_RUNS)].drop(columns=["response"])
    model = provenance.get("model", "model")
    main = main_table(runs, model, reference_run)
    per_run = runs.drop(columns=["by_level"])
    levels = by_level_table(runs[~runs["run"].isin(PROFILE_RUNS)])
    flips = flips_table(samples, reference_run)
    prov = collect_provenance(provenance)

    out = Path(out_dir)
    for name, df in [
        ("main_results", main),
        ("per_run", per_run),
        ("by_level", levels),
        ("flips", flips),
        ("reference_profile", profile),
    ]:
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False, float_format="%.4f")
    write_json(prov, out / "provenance.json")
    with atomic_path(out / "main_results.md") as tmp:
        tmp.write_text(f"{_provenance_line(prov)}\n\n{to_markdown(main)}\n")
    write_figures(samples, main, levels, reference_run, figures_dir)
    with atomic_path(out / "summary.md") as tmp:
        tmp.write_text(render_summary(main, per_run, levels, flips, profile, prov, figures_dir))
    log.info("report written to %s and %s", out_dir, figures_dir)


def _provenance_line(prov: dict) -> str:
    pk = ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
    return f"_config {prov['config_sha256'][:12]}, commit {prov['git_commit']}, {pk}_"


def target_check(main: pd.DataFrame, method: str = "o1_pruner", reference: str = "baseline") -> list[str]:
    """The project's acceptance bar, stated with the measured numbers (never tuned)."""
    lines = []
    for dataset, g in main.groupby("dataset", sort=False):
        ref = g[g["method"] == reference]
        run = g[g["method"] == method]
        if ref.empty or run.empty:
            continue
        ratio = float(run["mean_tokens"].iloc[0] / ref["mean_tokens"].iloc[0])
        d_acc = float(run["accuracy"].iloc[0] - ref["accuracy"].iloc[0])
        ok = ratio <= 0.7 and d_acc >= -1.0
        lines.append(
            f"- **{dataset}**: {method} greedy tokens are {ratio:.2f}x the reference's "
            f"(target <= 0.70) and accuracy changes by {d_acc:+.2f} points (target >= -1.00): "
            f"**{'met' if ok else 'not met'}** (mean over {int(run['n_seeds'].iloc[0])} seed(s))."
        )
    return lines


def render_summary(main, per_run, levels, flips, profile, prov, figures_dir) -> str:
    show = main[
        [
            "method",
            "dataset",
            "n_problems",
            "accuracy",
            "accuracy_std",
            "mean_tokens",
            "mean_tokens_std",
            "token_ratio",
            "aes",
            "n_seeds",
            "wall_time_s",
        ]
    ]
    fig = Path(figures_dir)
    parts = [
        "<!-- generated by `o1pruner report`; do not edit by hand -->",
        _provenance_line(prov),
        "",
        "Greedy decoding on the held-out test split. Mean over fine-tuning seeds, with the standard "
        "deviation over seeds (`*_std`); `token_ratio` is mean tokens relative to the reference.",
        "",
        to_markdown(show),
        "",
        *target_check(main),
        "",
        "Per run:",
        "",
        to_markdown(
            per_run[
                [
                    "run",
                    "dataset",
                    "accuracy",
                    "mean_tokens",
                    "marker_rate",
                    "unparseable_rate",
                    "truncated_rate",
                    "wall_time_s",
                ]
            ]
        ),
        "",
        "Paired flips against the reference (same problems):",
        "",
        to_markdown(flips),
        "",
        "By difficulty level (mean over seeds):",
        "",
        to_markdown(levels),
        "",
        "Reference profile (`baseline` greedy, `baseline_sampled` at the evaluation's sampling temperature, "
        "and the training pre-samples):",
        "",
        to_markdown(profile),
        "",
        f"![Length distribution]({fig / 'length_distribution.png'})",
        f"![Accuracy vs tokens]({fig / 'accuracy_vs_tokens.png'})",
        f"![Tokens by difficulty]({fig / 'tokens_by_difficulty.png'})",
        "",
    ]
    return "\n".join(parts)
