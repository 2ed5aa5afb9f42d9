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
from .latex import to_latex
from .markdown import to_markdown
from .outputs import FIGURES
from .provenance import collect_provenance
from .runs import run_method, split_run

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


ABLATION_RE = re.compile(r"^o1_pruner_(lambda(?P<lam>[0-9p]+)|(?P<band>hard|mid|easy))$")


def is_ablation(method: str) -> bool:
    return bool(ABLATION_RE.match(method))


def with_average(main: pd.DataFrame) -> pd.DataFrame:
    """Append, per method, an `average` row: the mean over test sets of accuracy, tokens and AES
    (as the paper's AVERAGE column: the mean of per-dataset AES, not the AES of the means)."""
    if main["dataset"].nunique() < 2:
        return main
    cols = ["accuracy", "mean_tokens", "aes", "aes_formula", "token_ratio"]
    avg = main.groupby(["model", "method"], sort=False)[cols].mean().reset_index()
    avg["dataset"] = "average"
    avg["n_problems"] = main.groupby(["model", "method"], sort=False)["n_problems"].sum().to_numpy()
    return pd.concat([main, avg], ignore_index=True)


def lambda_table(scored: pd.DataFrame, main_lambda: float | None) -> pd.DataFrame:
    """Table 3: O1-Pruner per lambda, accuracy / tokens / AES averaged over the test sets."""
    rows = []
    for method, g in scored.groupby("method", sort=False):
        m = ABLATION_RE.match(method)
        if m and m.group("lam"):
            lam = float(m.group("lam").replace("p", "."))
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
                "avg_aes": g["aes"].mean(),
            }
        )
    cols = ["lambda", "method", "n_datasets", "avg_accuracy", "avg_mean_tokens", "avg_aes"]
    return pd.DataFrame(rows, columns=cols).sort_values("lambda").reset_index(drop=True)


def difficulty_table(scored: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Figure 4: O1-Pruner trained on the hardest / middle / easiest problems (by pre-sampled
    accuracy) against training on all of them; accuracy and tokens overall and on the hardest level."""
    order = {"o1_pruner_hard": 0, "o1_pruner_mid": 1, "o1_pruner_easy": 2, "o1_pruner": 3, "baseline": 4}
    keep = scored[scored["method"].isin(order)].copy()
    if not any(keep["method"].str.match(r"o1_pruner_(hard|mid|easy)")):
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
        "aes",
        "hardest_level",
        "hardest_accuracy",
        "hardest_mean_tokens",
    ]
    return keep.sort_values(["dataset", "_order"])[cols].reset_index(drop=True)


STYLES_CAPTION = (
    'Which "Wait," each method keeps (estimate-check toy; seeds pooled): `check_kept` = % of responses that '
    'still check the estimate step by step, `restatements` = redundant "Wait," segments per response:'
)
STYLE_REWARDS_CAPTION = (
    "What the reward asks for (estimate-check toy): over all pre-samples, the share, accuracy and length of "
    "each style per level and its mean clipped O1-Pruner reward at several lambdas (at the run's lambda also "
    "over right and wrong samples apart); the policy gradient moves towards the style with the higher reward:"
)


def build_report(
    metric_paths: list[str],
    sample_paths: list[str],
    reference_run: str,
    out_dir: str,
    figures_dir: str,
    provenance: dict,
    presamples_path: str | None = None,
    markers: list[str] = (),
) -> None:
    from ..baseline import aggregate

    runs = load_runs(metric_paths)
    samples = pd.concat(
        [
            pd.read_parquet(p, columns=["run", "dataset", "problem_id", "level", "n_tokens", "correct", "response"])
            for p in sample_paths
        ],
        ignore_index=True,
    )
    runs["marker_rate"] = runs["run"].map(marker_rates(samples, list(markers)))
    presamples = pd.read_parquet(presamples_path) if presamples_path else None
    stats = aggregate(presamples) if presamples is not None else None
    intervals = length_interval_table(presamples) if presamples is not None else None
    profile = reference_profile(runs, stats)
    styles = style_rewards = None
    if provenance.get("toy_solution_style") == "estimate_check":
        from ..toy.styles import reward_by_style, solution_styles

        styles = solution_styles(samples.assign(method=samples["run"].map(run_method)))
        if presamples is not None:
            run_lambda = float(provenance.get("reward_lambda", 2.0))
            lambdas = sorted({0.0, 2.0, 5.0, 10.0, run_lambda})
            style_rewards = reward_by_style(presamples, stats, lambdas, provenance.get("reward_clip"), run_lambda)
    samples = samples[~samples["run"].isin(PROFILE_RUNS)].drop(columns=["response"])
    model = provenance.get("model", "model")
    scored = main_table(runs, model, reference_run)  # every method, ablations included
    paper_methods = ~scored["method"].map(is_ablation)
    main = with_average(attach_published(scored[paper_methods].reset_index(drop=True), provenance.get("paper_name")))
    per_run = runs.drop(columns=["by_level"])
    all_levels = by_level_table(runs[~runs["run"].isin(PROFILE_RUNS)])
    levels = all_levels[~all_levels["method"].map(is_ablation)]
    lambdas = lambda_table(scored, provenance.get("reward_lambda"))
    difficulty = difficulty_table(scored, all_levels)
    flips = flips_table(samples[~samples["run"].map(lambda r: is_ablation(split_run(r)[0]))], reference_run)
    prov = collect_provenance(provenance)

    out = Path(out_dir)
    tables = [
        ("main_results", main),
        ("per_run", per_run),
        ("by_level", levels),
        ("flips", flips),
        ("reference_profile", profile),
        ("lambda_ablation", lambdas),
        ("difficulty_ablation", difficulty),
    ]
    if intervals is not None:
        tables.append(("length_intervals", intervals))
    extra = []  # (caption, table) sections of the summary that only some runs have
    if styles is not None:
        tables.append(("toy_solution_styles", styles))
        extra.append((STYLES_CAPTION, styles))
    if style_rewards is not None:
        tables.append(("toy_reward_by_style", style_rewards))
        extra.append((STYLE_REWARDS_CAPTION, style_rewards))
    for name, df in tables:
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False, float_format="%.4f")
    write_json(prov, out / "provenance.json")
    with atomic_path(out / "main_results.md") as tmp:
        tmp.write_text(f"{_provenance_line(prov)}\n\n{to_markdown(main)}\n")
    with atomic_path(out / "main_results.tex") as tmp:
        tmp.write_text(to_latex(main))
    with atomic_path(out / "headline.md") as tmp:
        tmp.write_text(headline(main))
    main_samples = samples[~samples["run"].map(lambda r: is_ablation(split_run(r)[0]))]
    per_dataset = main[main["dataset"] != "average"]
    figure_names = write_figures(main_samples, per_dataset, levels, intervals, reference_run, figures_dir)
    with atomic_path(out / "summary.md") as tmp:
        tmp.write_text(
            render_summary(
                main,
                per_run,
                levels,
                flips,
                profile,
                lambdas,
                difficulty,
                intervals,
                prov,
                figures_dir,
                extra,
                figure_names,
            )
        )
    log.info("report written to %s and %s", out_dir, figures_dir)


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


def _provenance_line(prov: dict) -> str:
    pk = ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
    return f"_config {prov['config_sha256'][:12]}, commit {prov['git_commit']}, {pk}_"


def target_check(main: pd.DataFrame, method: str = "o1_pruner", reference: str = "baseline") -> list[str]:
    """The project's acceptance bar, stated with the measured numbers (never tuned)."""
    lines = []
    for dataset, g in main[main["dataset"] != "average"].groupby("dataset", sort=False):
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


def render_summary(
    main,
    per_run,
    levels,
    flips,
    profile,
    lambdas,
    difficulty,
    intervals,
    prov,
    figures_dir,
    extra_sections=(),
    figure_names=(),
) -> str:
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
            "aes_formula",
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
        *(
            ["Lambda ablation (Table 3 of the paper; means over the test sets):", "", to_markdown(lambdas), ""]
            if len(lambdas) > 1
            else []
        ),
        *(
            [
                "Difficulty ablation (Figure 4 of the paper): O1-Pruner trained on the hardest 0-40%, middle 30-70% or "
                "easiest 60-100% of the training problems by pre-sampled accuracy:",
                "",
                to_markdown(difficulty),
                "",
            ]
            if len(difficulty)
            else []
        ),
        *(
            [
                "Accuracy within length intervals of the pre-samples (Table 1 of the paper; 1 = shortest quarter of "
                "each problem's samples):",
                "",
                to_markdown(intervals),
                "",
            ]
            if intervals is not None
            else []
        ),
        *(line for caption, table in extra_sections for line in (caption, "", to_markdown(table), "")),
        *(f"![{FIGURES[name]}]({fig / name}.png)" for name in figure_names),
        "",
    ]
    return "\n".join(parts)
