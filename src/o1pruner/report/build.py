"""`o1pruner report`: reads the evaluation artifacts, builds every table (tables.py), writes them
with the summary page (summary.py) and the figures (figures.py). Which files it writes is
declared in outputs.py, which the `report` rule reads."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd

from ..io import atomic_path, write_json
from ..runs import is_ablation, run_method
from ..settings import ReportSettings
from .decoding_tables import budget_table, sampled_table, selection_table, thinking_table
from .figures import write_figures
from .latex import to_latex
from .ledger import ledger_table
from .markdown import to_markdown
from .provenance import collect_provenance
from .summary import ReportTables, provenance_line, render_summary
from .tables import (
    attach_published,
    by_level_table,
    difficulty_table,
    flips_table,
    headline,
    lambda_table,
    length_interval_table,
    load_runs,
    main_table,
    marker_rates,
    reference_profile,
    with_average,
)

log = logging.getLogger(__name__)

# The lambdas at which "What the reward asks for" scores each style (the run's own is added).
STYLE_REWARD_LAMBDAS = (0.0, 2.0, 5.0, 10.0)
SAMPLE_COLUMNS = ["run", "dataset", "problem_id", "level", "n_tokens", "correct", "response"]


def _style_tables(samples, presamples, stats, run: ReportSettings) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The estimate-check toy's tables: which style each method keeps, what the reward pays."""
    if run.toy_solution_style != "estimate_check":
        return None, None
    from ..toy.styles import reward_by_style, solution_styles

    styles = solution_styles(samples.assign(method=samples["run"].map(run_method)))
    if presamples is None:
        return styles, None
    run_lambda = float(run.reward_lambda)
    lambdas = sorted({*STYLE_REWARD_LAMBDAS, run_lambda})
    return styles, reward_by_style(presamples, stats, lambdas, run.reward_clip, run_lambda)


def build_tables(
    metric_paths: list[str],
    sample_paths: list[str],
    sampled_metric_paths: list[str],
    reference_run: str,
    run: ReportSettings,
    presamples_path: str | None,
    markers: list[str],
    budget_metric_paths: list[str] = (),
    selection_paths: list[str] = (),
    ledger_plan: dict | None = None,
) -> tuple[ReportTables, pd.DataFrame]:
    """Every table, and the greedy samples of the main (non-ablation) runs for the figures."""
    from ..reference_stats import aggregate

    runs = load_runs(metric_paths)
    samples = pd.concat([pd.read_parquet(p, columns=SAMPLE_COLUMNS) for p in sample_paths], ignore_index=True)
    runs["marker_rate"] = runs["run"].map(marker_rates(samples, list(markers)))
    presamples = pd.read_parquet(presamples_path) if presamples_path else None
    stats = aggregate(presamples) if presamples is not None else None
    styles, style_rewards = _style_tables(samples, presamples, stats, run)
    samples = samples.drop(columns=["response"])
    sampled = sampled_table(sampled_metric_paths) if sampled_metric_paths else None
    scored = main_table(runs, run.model, reference_run)  # ablations included
    main = with_average(
        attach_published(scored[~scored["method"].map(is_ablation)].reset_index(drop=True), run.paper_name)
    )
    all_levels = by_level_table(runs)
    main_samples = samples[~samples["run"].map(run_method).map(is_ablation)]
    tables = ReportTables(
        main_results=main,
        per_run=runs.drop(columns=["by_level"]),
        by_level=all_levels[~all_levels["method"].map(is_ablation)],
        flips=flips_table(main_samples, reference_run),
        reference_profile=reference_profile(runs, stats, sampled),
        lambda_ablation=lambda_table(scored, run.reward_lambda),
        difficulty_ablation=difficulty_table(scored, all_levels),
        length_intervals=length_interval_table(presamples) if presamples is not None else None,
        sampled_results=sampled,
        thinking_split=(
            thinking_table(runs[~runs["method"].map(is_ablation)]) if "mean_thinking_tokens" in runs else None
        ),
        budget_results=budget_table(budget_metric_paths) if budget_metric_paths else None,
        hyperparameter_selection=selection_table(selection_paths) if selection_paths else None,
        toy_solution_styles=styles,
        toy_reward_by_style=style_rewards,
        compute_ledger=ledger_table(ledger_plan, main) if ledger_plan and ledger_plan["methods"] else None,
    )
    return tables, main_samples


def build_report(
    *,
    metric_paths: list[str],
    sample_paths: list[str],
    sampled_metric_paths: list[str],
    budget_metric_paths: list[str],
    selection_paths: list[str],
    reference_run: str,
    out_dir: str,
    figures_dir: str,
    run: ReportSettings,
    presamples_path: str | None,
    markers: list[str],
    ledger_plan: dict | None = None,
) -> None:
    tables, main_samples = build_tables(
        metric_paths, sample_paths, sampled_metric_paths, reference_run, run, presamples_path, markers,
        budget_metric_paths, selection_paths, ledger_plan,
    )  # fmt: skip
    prov = collect_provenance(run)
    out = Path(out_dir)
    for name, df in tables.written().items():
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False, float_format="%.4f")
    write_json(prov, out / "provenance.json")
    main = tables.main_results
    with atomic_path(out / "main_results.md") as tmp:
        tmp.write_text(f"{provenance_line(prov)}\n\n{to_markdown(main)}\n")
    with atomic_path(out / "main_results.tex") as tmp:
        tmp.write_text(to_latex(main))
    with atomic_path(out / "headline.md") as tmp:
        tmp.write_text(headline(main))
    per_dataset = main[main["dataset"] != "average"]
    figure_names = write_figures(
        main_samples, per_dataset, tables.by_level, tables.length_intervals, tables.sampled_results, reference_run,
        figures_dir, tables.budget_results,
    )  # fmt: skip
    with atomic_path(out / "summary.md") as tmp:
        picks = [json.loads(Path(p).read_text()) for p in selection_paths]
        # Figure links relative to the page, so they work wherever the page is opened from.
        relative_figures = os.path.relpath(Path(figures_dir).resolve(), out.resolve())
        tmp.write_text(render_summary(tables, prov, relative_figures, figure_names, picks))
    log.info("report written to %s and %s", out_dir, figures_dir)
