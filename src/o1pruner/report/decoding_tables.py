"""The report's tables of the other decodings and of selection: the sampled evaluation (avg@n,
pass@k), the thinking split, budget forcing, and the validation grid of `selection`, each from
its metrics files. The greedy tables are in `tables.py`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..runs import split_run


def thinking_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Greedy responses' tokens split at the closing thinking marker, mean over seeds per method
    and test set: tokens = thinking tokens (up to and including the marker) + answer tokens."""
    out = (
        runs.groupby(["method", "dataset"], sort=False)
        .agg(
            n_seeds=("run", "size"),
            mean_tokens=("mean_tokens", "mean"),
            mean_thinking_tokens=("mean_thinking_tokens", "mean"),
            mean_answer_tokens=("mean_answer_tokens", "mean"),
            thinking_closed_rate=("thinking_closed_rate", "mean"),
        )
        .reset_index()
    )
    out["thinking_share"] = 100 * out["mean_thinking_tokens"] / out["mean_tokens"]
    return out


def budget_table(budget_metric_paths: list[str]) -> pd.DataFrame:
    """Greedy accuracy with the thinking capped at each budget (budget forcing), mean and standard
    deviation over seeds per method, test set and budget; with the tokens actually spent, the
    share of responses whose thinking the budget closed, and the answer tokens those spent after
    the forced close."""
    rows = []
    for path in budget_metric_paths:
        m = json.loads(Path(path).read_text())
        method, seed = split_run(m["run"])
        rows.append(
            {
                "run": m["run"],
                "method": method,
                "dataset": m["dataset"],
                "budget": m["budget_forcing"]["budget"],
                "accuracy": m["accuracy"],
                "mean_thinking_tokens": m["thinking"]["mean_thinking_tokens"],
                "mean_answer_tokens": m["thinking"]["mean_answer_tokens"],
                "forced_rate": m["budget_forcing"]["forced_rate"],
                "mean_answer_tokens_forced": m["budget_forcing"].get("mean_answer_tokens_forced", float("nan")),
                "truncated_rate": m["truncated_rate"],
            }
        )
    d = pd.DataFrame(rows)
    out = (
        d.groupby(["method", "dataset", "budget"], sort=False)
        .agg(
            n_seeds=("run", "size"),
            accuracy=("accuracy", "mean"),
            accuracy_std=("accuracy", "std"),
            mean_thinking_tokens=("mean_thinking_tokens", "mean"),
            mean_answer_tokens=("mean_answer_tokens", "mean"),
            forced_rate=("forced_rate", "mean"),
            mean_answer_tokens_forced=("mean_answer_tokens_forced", "mean"),
            truncated_rate=("truncated_rate", "mean"),
        )
        .reset_index()
    )
    # per test set, the methods in run order, each with its budgets ascending
    order = {m: i for i, m in enumerate(out["method"].unique())}
    by = ["dataset", "method", "budget"]
    out = out.sort_values(by, key=lambda column: column.map(order) if column.name == "method" else column)
    return out.reset_index(drop=True)


def selection_table(selection_paths: list[str]) -> pd.DataFrame:
    """Every grid point of every selected method on the validation split, the pick marked."""
    from ..runs import GRID_KEYS

    rows = []
    for path in selection_paths:
        sel = json.loads(Path(path).read_text())
        for c in sel["candidates"]:
            grid = {k: format(c[k], "g") for k in GRID_KEYS if k in c}  # 5e-05, not 0.0000
            rows.append({"method": sel["method"], "run": c["run"], **grid, **{k: c[k] for k in SELECTION_COLUMNS}})
    table = pd.DataFrame(rows)
    grid_columns = [k for k in GRID_KEYS if k in table]
    return table[["method", "run", *grid_columns, *SELECTION_COLUMNS]]


SELECTION_COLUMNS = ("accuracy", "mean_tokens", "accuracy_change", "token_ratio", "within_tolerance", "picked")


def sampled_table(sampled_metric_paths: list[str]) -> pd.DataFrame:
    """One row per run and test set of the sampled evaluation: avg@n and mean tokens with their
    95% intervals (bootstrapped over problems), pass@k, the truncation rate."""
    rows = []
    for path in sampled_metric_paths:
        m = json.loads(Path(path).read_text())
        method, seed = split_run(m["run"])
        s = m["sampled"]
        row = {
            "run": m["run"],
            "method": method,
            "seed": seed,
            "dataset": m["dataset"],
            "n_problems": s["n_problems"],
            "samples_per_problem": s["samples_per_problem"],
            "temperature": s["temperature"],
            "top_p": s["top_p"],
            "accuracy": s["accuracy"],
            "accuracy_ci_low": s["accuracy_ci95"][0],
            "accuracy_ci_high": s["accuracy_ci95"][1],
        }
        row.update({k: v for k, v in s.items() if k.startswith("pass@")})
        row.update(
            mean_tokens=s["mean_tokens"],
            mean_tokens_ci_low=s["mean_tokens_ci95"][0],
            mean_tokens_ci_high=s["mean_tokens_ci95"][1],
            truncated_rate=s["truncated_rate"],
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    out["seed"] = out["seed"].astype("Int64")
    return out
