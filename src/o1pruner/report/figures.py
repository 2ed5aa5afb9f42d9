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
    """Histogram of greedy response lengths per method (seeds pooled), all test sets."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    methods = samples["method"].unique()
    hi = samples["n_tokens"].quantile(0.995)
    bins = 40
    for m in methods:
        ax.hist(samples.loc[samples["method"] == m, "n_tokens"].clip(upper=hi), bins=bins, alpha=0.5, label=m,
                density=True)
    ax.set_xlabel("generated tokens (greedy)")
    ax.set_ylabel("density")
    ax.set_title("Response length before and after pruning")
    ax.legend()
    _save(fig, path)


def accuracy_vs_tokens(main: pd.DataFrame, path: Path) -> None:
    """Mean accuracy vs mean tokens per method and dataset; bars show the spread over seeds."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for dataset, g in main.groupby("dataset", sort=False):
        for r in g.itertuples():
            ax.errorbar(r.mean_tokens, r.accuracy, xerr=r.mean_tokens_std if r.n_seeds > 1 else None,
                        yerr=r.accuracy_std if r.n_seeds > 1 else None, fmt="o", capsize=3)
            ax.annotate(f"{r.method} ({dataset})", (r.mean_tokens, r.accuracy), textcoords="offset points",
                        xytext=(5, 5), fontsize=8)
    ax.set_xlabel("mean generated tokens")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy vs length per method")
    _save(fig, path)


def tokens_by_difficulty(levels: pd.DataFrame, path: Path) -> None:
    """Mean tokens per difficulty level and method (mean over seeds)."""
    fig, (ax_tok, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    if not levels.empty:
        tok = levels.pivot_table(index="level", columns="method", values="mean_tokens", sort=False)
        acc = levels.pivot_table(index="level", columns="method", values="accuracy", sort=False)
        tok.plot.bar(ax=ax_tok, rot=0)
        acc.plot.bar(ax=ax_acc, rot=0)
    ax_tok.set_ylabel("mean generated tokens")
    ax_acc.set_ylabel("accuracy (%)")
    ax_tok.set_title("Tokens by difficulty")
    ax_acc.set_title("Accuracy by difficulty")
    _save(fig, path)


def write_figures(samples: pd.DataFrame, main: pd.DataFrame, levels: pd.DataFrame, reference_run: str,
                  figures_dir: str) -> None:
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples = samples.assign(method=samples["run"].map(run_method))
    length_distribution(samples, out / "length_distribution.png")
    accuracy_vs_tokens(main, out / "accuracy_vs_tokens.png")
    tokens_by_difficulty(levels, out / "tokens_by_difficulty.png")
