"""The report's figures, one function each, written as PNG (for the README and the HTML report)
and PDF (for papers). Methods carry their display names; seeds give error bars (± one standard
deviation over seeds) wherever a method was trained with several."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..io import atomic_path  # noqa: E402
from ..runs import is_ablation, run_method  # noqa: E402
from .names import dataset_label, method_label  # noqa: E402

# One marker per method, so that two methods on the same point stay visible (hollow markers).
MARKERS = "osD^vP*Xh<>pd8H"


def _save(fig, path: Path) -> None:
    """`path` without suffix: writes path.png and path.pdf."""
    for fmt in ("png", "pdf"):
        with atomic_path(path.with_suffix(f".{fmt}")) as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight", format=fmt)
    plt.close(fig)


LINESTYLES = ["-", "--", ":", "-."]


# Up to 20 distinct colours: tab20's strong shades (tab10's) first, then its light ones.
COLORS = [plt.get_cmap("tab20")(i) for i in (*range(0, 20, 2), *range(1, 20, 2))]


def _styles(methods) -> dict[str, dict]:
    return {
        m: {
            "color": COLORS[i % len(COLORS)],
            "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)],
        }
        for i, m in enumerate(methods)
    }


def length_distribution(samples: pd.DataFrame, path: Path) -> None:
    """Empirical CDF of greedy response lengths per method (seeds pooled), one panel per test set.

    An ECDF keeps discrete toy lengths readable where overlapping histograms do not.
    """
    datasets = list(samples["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 3.8), squeeze=False)
    styles = _styles(samples["method"].unique())
    for ax, dataset in zip(axes[0], datasets):
        d = samples[samples["dataset"] == dataset]
        for m in d["method"].unique():
            x = np.sort(d.loc[d["method"] == m, "n_tokens"].to_numpy())
            st = styles[m]
            # Line styles as well as colours: two methods with the same lengths stay visible.
            ax.step(
                x,
                np.arange(1, len(x) + 1) / len(x),
                where="post",
                color=st["color"],
                linestyle=st["linestyle"],
                linewidth=2.2 if st["linestyle"] != "-" else 1.6,
                label=method_label(m),
            )
        ax.set_xlabel("generated tokens per response (greedy)")
        ax.set_ylabel("share of responses at most this long")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"Response length: {dataset_label(dataset)}")
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def _point(ax, x, y, style: dict, label: str | None, xerr=None, yerr=None) -> None:
    """One run or method: a hollow marker (two on the same spot stay visible) with its bars."""
    ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=style["marker"], markersize=9, markerfacecolor="none",
                markeredgewidth=1.6, color=style["color"], capsize=3, label=label)  # fmt: skip


def _accuracy_range(d: pd.DataFrame, reference: str, span: float, low: pd.Series, high: pd.Series):
    """The accuracy axis of one panel: it fits the runs within `span` points of the reference
    (all of them where most are further away), then the whole bars (`low`..`high`) of every run
    that lies inside it."""
    ref = d[d["method"] == reference]
    centre = float(ref["accuracy"].iloc[0]) if len(ref) else float(d["accuracy"].median())
    near = (d["accuracy"] - centre).abs() <= span
    if near.sum() < len(d) / 2:  # most runs far from the reference: show them all
        near[:] = True
    margin = max(0.5, 0.15 * (high[near].max() - low[near].min()))
    lo, hi = max(0.0, low[near].min() - margin), min(100.0, high[near].max() + margin)
    inside = (d["accuracy"] >= lo) & (d["accuracy"] <= hi)
    return max(0.0, min(lo, low[inside].min() - margin)), min(100.0, max(hi, high[inside].max() + margin))


def accuracy_vs_tokens(main: pd.DataFrame, path: Path, reference: str = "reference", span: float = 12.0) -> None:
    """Accuracy vs mean tokens per method, one panel per test set; bars: ± std over seeds.

    The accuracy axis fits the methods within `span` points of the reference, so that they are
    told apart; a method further away is drawn on the panel's edge with its value beside it.
    Where most methods are further away than that, the axis fits them all.
    """
    datasets = list(main["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.2), squeeze=False)
    styles = _styles(main["method"].unique())
    for ax, dataset in zip(axes[0], datasets):
        d = main[main["dataset"] == dataset]
        spread = d["accuracy_std"].fillna(0)
        lo, hi = _accuracy_range(d, reference, span, d["accuracy"] - spread, d["accuracy"] + spread)
        notes: dict[tuple, list] = {}
        for r in d.itertuples():
            st = styles[r.method]
            inset = 0.04 * (hi - lo)  # off-scale points sit just inside the edge, fully drawn
            y = min(max(r.accuracy, lo + inset), hi - inset) if not lo <= r.accuracy <= hi else r.accuracy
            off_scale = y != r.accuracy
            several = (getattr(r, "n_seeds", 1) or 1) > 1
            _point(
                ax,
                r.mean_tokens,
                y,
                st,
                method_label(r.method),
                xerr=r.mean_tokens_std if several else None,
                yerr=r.accuracy_std if several and not off_scale else None,
            )
            if off_scale:
                # Points off the same edge at about the same length share one note.
                key = (round(r.mean_tokens / max(1.0, 0.05 * d["mean_tokens"].max())), r.accuracy < lo)
                notes.setdefault(key, []).append((r.mean_tokens, y, f"{method_label(r.method)}: {r.accuracy:.1f}%"))
        for (_, below), items in notes.items():
            x = sum(i[0] for i in items) / len(items)
            text = ("↓ " if below else "↑ ") + "\n".join(i[2] for i in items) + " (off scale)"
            ax.annotate(
                text,
                (x, items[0][1]),
                textcoords="offset points",
                xytext=(0, 10 if below else -12),
                ha="center",
                va="bottom" if below else "top",
                fontsize=8,
                color="dimgrey",
            )
        ref = d[d["method"] == reference]
        if len(ref):
            ax.axhline(float(ref["accuracy"].iloc[0]), color="grey", lw=0.8, ls=":")
            ax.axvline(float(ref["mean_tokens"].iloc[0]), color="grey", lw=0.8, ls=":")
        ax.set_ylim(lo, hi)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.set_xlabel("mean generated tokens (greedy)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"Accuracy vs length: {dataset_label(dataset)}")
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def tokens_by_difficulty(levels: pd.DataFrame, path: Path) -> None:
    """Mean tokens and accuracy per difficulty level and method, per test set; ± std over seeds."""
    datasets = list(levels["dataset"].unique()) if not levels.empty else []
    fig, axes = plt.subplots(max(1, len(datasets)), 2, figsize=(12, 3.8 * max(1, len(datasets))), squeeze=False)
    # the colours of the other figures (up to 20 methods), not the default cycle's 10 that repeat
    colors = {method_label(m): st["color"] for m, st in _styles(levels["method"].unique()).items()}
    for (ax_tok, ax_acc), dataset in zip(axes, datasets):
        d = levels[levels["dataset"] == dataset].assign(label=lambda x: x["method"].map(method_label))
        for ax, value in ((ax_tok, "mean_tokens"), (ax_acc, "accuracy")):
            mean = d.pivot_table(index="level", columns="label", values=value, sort=False)
            std_col = f"{value}_std"
            std = d.pivot_table(index="level", columns="label", values=std_col, sort=False) if std_col in d else None
            mean.plot.bar(ax=ax, rot=0, yerr=std.reindex_like(mean) if std is not None else None, capsize=2, width=0.8,
                          color=[colors[c] for c in mean.columns])  # fmt: skip
            ax.grid(axis="y", alpha=0.3)
        ax_tok.set_ylabel("mean generated tokens")
        ax_acc.set_ylabel("accuracy (%)")
        ax_tok.set_title(f"Tokens by difficulty: {dataset_label(dataset)}")
        ax_acc.set_title(f"Accuracy by difficulty: {dataset_label(dataset)}")
        # One legend to the right of the row: inside either panel it covers bars.
        handles, labels = ax_tok.get_legend_handles_labels()
        for ax in (ax_tok, ax_acc):
            if ax.get_legend():
                ax.get_legend().remove()
        ax_acc.legend(handles, labels, fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def inference_cost(main: pd.DataFrame, path: Path) -> None:
    """The paper's Figure 3 (inference time), as what it is on a shared machine.

    Left: generated tokens per test problem, the deterministic part of inference cost. Right:
    the measured wall time of the run's greedy decoding, one measurement per run, which also
    carries the machine's load and batching; compare it only within one run of the workflow.
    """
    fig, (ax_tok, ax_time) = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True, gridspec_kw={"wspace": 0.08})
    d = main.assign(label=main["method"].map(method_label), test_set=main["dataset"].map(dataset_label))
    tokens = d.pivot_table(index="label", columns="test_set", values="mean_tokens", sort=False)
    tokens_std = d.pivot_table(index="label", columns="test_set", values="mean_tokens_std", sort=False)
    tokens.plot.barh(ax=ax_tok, xerr=tokens_std.reindex_like(tokens), capsize=2, legend=len(tokens.columns) > 1)
    ax_tok.set_xlabel("mean generated tokens per problem")
    ax_tok.set_ylabel("")
    ax_tok.set_title("Inference cost: tokens")
    ax_tok.invert_yaxis()
    times = d.pivot_table(index="label", columns="test_set", values="wall_time_s", sort=False)
    times.plot.barh(ax=ax_time, legend=len(times.columns) > 1)
    ax_time.set_xlabel("evaluation wall time (s), one measurement per run")
    ax_time.set_ylabel("")
    ax_time.set_title("Inference cost: measured time (machine-dependent)")
    ax_time.invert_yaxis()
    for ax in (ax_tok, ax_time):
        ax.grid(axis="x", alpha=0.3)
    _save(fig, path)


def length_intervals(intervals: pd.DataFrame, path: Path) -> None:
    """Accuracy of the pre-samples within each problem's length quarters (the paper's Table 1)."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(intervals["interval"].astype(str), intervals["accuracy"])
    ax.set_xlabel("length interval within a problem (1 = shortest)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Accuracy by length interval (pre-samples)")
    _save(fig, path)


def accuracy_vs_tokens_sampled(
    sampled: pd.DataFrame, path: Path, reference: str = "reference", span: float = 12.0
) -> None:
    """Sampled evaluation: avg@n vs mean tokens per run, one panel per test set, with the 95%
    intervals bootstrapped over problems on both axes; the seeds of a method share its marker.
    As in the greedy figure, the accuracy axis fits the runs within `span` points of the
    reference and a run further away sits on the panel's edge with its value beside it."""
    datasets = list(sampled["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.2), squeeze=False)
    styles = _styles(sampled["method"].unique())
    for ax, dataset in zip(axes[0], datasets):
        d = sampled[sampled["dataset"] == dataset]
        lo, hi = _accuracy_range(d, reference, span, d["accuracy_ci_low"], d["accuracy_ci_high"])
        labelled, off_scale_runs = set(), {}
        for r in d.itertuples():
            st = styles[r.method]
            off_scale = not lo <= r.accuracy <= hi
            y = min(max(r.accuracy, lo + 0.04 * (hi - lo)), hi - 0.04 * (hi - lo))
            _point(
                ax,
                r.mean_tokens,
                y,
                st,
                None if r.method in labelled else method_label(r.method),
                xerr=[[r.mean_tokens - r.mean_tokens_ci_low], [r.mean_tokens_ci_high - r.mean_tokens]],
                yerr=None if off_scale else [[r.accuracy - r.accuracy_ci_low], [r.accuracy_ci_high - r.accuracy]],
            )
            labelled.add(r.method)
            if off_scale:
                off_scale_runs.setdefault((r.method, y), []).append((r.mean_tokens, r.accuracy))
        # one label per method and edge, so that the seeds of a method do not print over each other
        for (method, y), points in off_scale_runs.items():
            accuracies = sorted(a for _, a in points)
            value = f"{accuracies[0]:.1f}" + (f"-{accuracies[-1]:.1f}" if len(accuracies) > 1 else "")
            x = sum(t for t, _ in points) / len(points)
            above = y > accuracies[0]  # at the bottom edge: the label goes above the points
            ax.annotate(f"{value}% (off scale)", (x, y), textcoords="offset points", xytext=(0, 9 if above else -14),
                        ha="center", fontsize=8, color=styles[method]["color"])  # fmt: skip
        ax.set_ylim(lo, hi)
        ax.set_xlabel("mean generated tokens per response (sampled; 95% interval)")
        ax.set_ylabel(f"avg@{int(d['samples_per_problem'].iloc[0])} accuracy (%; 95% interval)")
        ax.grid(alpha=0.3)
        ax.set_title(f"Sampled, T={d['temperature'].iloc[0]:g}: {dataset_label(dataset)}")
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def accuracy_vs_budget(budgets: pd.DataFrame, main: pd.DataFrame, path: Path) -> None:
    """Greedy accuracy with the thinking capped at each budget (budget forcing), one line per
    method and one panel per test set; bars: one standard deviation over seeds. The hollow point
    at "none" is the method's greedy accuracy without a budget."""
    datasets = list(budgets["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.2), squeeze=False)
    styles = _styles(budgets["method"].unique())
    ticks = sorted(budgets["budget"].unique())
    unbudgeted = ticks[-1] * 1.6  # the "none" position, right of the largest budget (log axis)
    for ax, dataset in zip(axes[0], datasets):
        d = budgets[budgets["dataset"] == dataset]
        free = main[main["dataset"] == dataset].set_index("method")
        for method, g in d.groupby("method", sort=False):
            st = styles[method]
            ax.errorbar(
                g["budget"], g["accuracy"], yerr=g["accuracy_std"].fillna(0), color=st["color"], marker=st["marker"],
                linestyle=st["linestyle"], markersize=5, capsize=2, label=method_label(method),
            )  # fmt: skip
            if method in free.index:
                ax.plot(unbudgeted, free.at[method, "accuracy"], marker=st["marker"], markersize=7,
                        markerfacecolor="none", color=st["color"], linestyle="none")  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_xticks([*ticks, unbudgeted], [*(str(int(b)) for b in ticks), "none"])
        ax.minorticks_off()
        ax.set_xlabel("thinking budget (tokens); hollow: no budget")
        ax.set_ylabel("greedy accuracy (%)")
        ax.grid(alpha=0.3)
        ax.set_title(f"Budget forcing: {dataset_label(dataset)}")
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def write_figures(
    samples: pd.DataFrame,
    main: pd.DataFrame,
    levels: pd.DataFrame,
    intervals: pd.DataFrame | None,
    sampled: pd.DataFrame | None,
    reference_run: str,
    figures_dir: str,
    budgets: pd.DataFrame | None = None,
) -> list[str]:
    """Write every figure (PNG and PDF); returns the names written."""
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples = samples.assign(method=samples["run"].map(run_method))
    length_distribution(samples, out / "length_distribution")
    accuracy_vs_tokens(main, out / "accuracy_vs_tokens", reference_run)
    tokens_by_difficulty(levels, out / "tokens_by_difficulty")
    inference_cost(main, out / "inference_cost")
    names = ["length_distribution", "accuracy_vs_tokens", "tokens_by_difficulty", "inference_cost"]
    if intervals is not None and len(intervals):
        length_intervals(intervals, out / "length_intervals")
        names.append("length_intervals")
    if sampled is not None and len(sampled):
        accuracy_vs_tokens_sampled(
            sampled[~sampled["method"].map(is_ablation)], out / "accuracy_vs_tokens_sampled", reference_run
        )
        names.append("accuracy_vs_tokens_sampled")
    if budgets is not None and len(budgets):
        accuracy_vs_budget(budgets, main, out / "accuracy_vs_budget")
        names.append("accuracy_vs_budget")
    return names
