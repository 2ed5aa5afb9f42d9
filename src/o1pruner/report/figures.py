"""The report's figures (PNG), one function each."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..io import atomic_path  # noqa: E402
from .runs import run_method  # noqa: E402


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)


def length_distribution(samples: pd.DataFrame, path: Path) -> None:
    """Histogram of greedy response lengths per method (seeds pooled), one panel per test set."""
    datasets = list(samples["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        d = samples[samples["dataset"] == dataset]
        hi = d["n_tokens"].quantile(0.995)
        for m in d["method"].unique():
            ax.hist(d.loc[d["method"] == m, "n_tokens"].clip(upper=hi), bins=40, alpha=0.5, label=m, density=True)
        ax.set_xlabel("generated tokens (greedy)")
        ax.set_ylabel("density")
        ax.set_title(f"Response length before and after pruning: {dataset}")
        ax.legend()
    _save(fig, path)


def accuracy_vs_tokens(main: pd.DataFrame, path: Path) -> None:
    """Mean accuracy vs mean tokens per method and dataset; bars show the spread over seeds.

    Methods are told apart by colour and test sets by marker in a legend, not by text labels,
    which overlap when two methods land on the same point (e.g. a control and a pruned model).
    """
    fig, ax = plt.subplots(figsize=(7.5, 4))
    colours = {m: f"C{i % 10}" for i, m in enumerate(main["method"].unique())}
    shapes = dict(zip(main["dataset"].unique(), "osD^vP*X"))
    for r in main.itertuples():
        ax.errorbar(
            r.mean_tokens,
            r.accuracy,
            xerr=r.mean_tokens_std if r.n_seeds > 1 else None,
            yerr=r.accuracy_std if r.n_seeds > 1 else None,
            fmt=shapes.get(r.dataset, "o"),
            color=colours[r.method],
            alpha=0.8,
            capsize=3,
            label=f"{r.method} ({r.dataset})",
        )
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_xlabel("mean generated tokens")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy vs length per method")
    _save(fig, path)


def tokens_by_difficulty(levels: pd.DataFrame, path: Path) -> None:
    """Mean tokens and accuracy per difficulty level and method (mean over seeds), per test set."""
    datasets = list(levels["dataset"].unique()) if not levels.empty else []
    fig, axes = plt.subplots(max(1, len(datasets)), 2, figsize=(11, 4 * max(1, len(datasets))), squeeze=False)
    for (ax_tok, ax_acc), dataset in zip(axes, datasets):
        d = levels[levels["dataset"] == dataset]
        d.pivot_table(index="level", columns="method", values="mean_tokens", sort=False).plot.bar(ax=ax_tok, rot=0)
        d.pivot_table(index="level", columns="method", values="accuracy", sort=False).plot.bar(ax=ax_acc, rot=0)
        ax_tok.set_ylabel("mean generated tokens")
        ax_acc.set_ylabel("accuracy (%)")
        ax_tok.set_title(f"Tokens by difficulty: {dataset}")
        ax_acc.set_title(f"Accuracy by difficulty: {dataset}")
        # One legend to the right of the row: inside either panel it covers bars.
        handles, labels = ax_tok.get_legend_handles_labels()
        for ax in (ax_tok, ax_acc):
            if ax.get_legend():
                ax.get_legend().remove()
        ax_acc.legend(handles, labels, title="method", fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def inference_time(main: pd.DataFrame, path: Path) -> None:
    """Wall time of greedy evaluation per method and test set (the paper's Figure 3)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    main.pivot_table(index="method", columns="dataset", values="wall_time_s", sort=False).plot.bar(ax=ax, rot=30)
    ax.set_ylabel("evaluation wall time (s)")
    ax.set_title("Inference time per method")
    _save(fig, path)


def length_intervals(intervals: pd.DataFrame, path: Path) -> None:
    """Accuracy of the pre-samples within each problem's length quarters (the paper's Table 1)."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(intervals["interval"].astype(str), intervals["accuracy"])
    ax.set_xlabel("length interval within a problem (1 = shortest)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy by length interval (pre-samples)")
    _save(fig, path)


def write_figures(
    samples: pd.DataFrame,
    main: pd.DataFrame,
    levels: pd.DataFrame,
    intervals: pd.DataFrame | None,
    reference_run: str,
    figures_dir: str,
) -> None:
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples = samples.assign(method=samples["run"].map(run_method))
    length_distribution(samples, out / "length_distribution.png")
    accuracy_vs_tokens(main, out / "accuracy_vs_tokens.png")
    tokens_by_difficulty(levels, out / "tokens_by_difficulty.png")
    inference_time(main, out / "inference_time.png")
    if intervals is not None and len(intervals):
        length_intervals(intervals, out / "length_intervals.png")
