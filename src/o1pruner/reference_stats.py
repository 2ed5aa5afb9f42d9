"""The reference model's per-problem statistics over its K pre-samples (L_ref and A_ref of the
reward, and the difficulty rank of the problems)."""

from __future__ import annotations

import pandas as pd


def aggregate(samples: pd.DataFrame) -> pd.DataFrame:
    """`mean_tokens`, `accuracy` and `k` per problem (plus the spread, for diagnostics)."""
    missing = [c for c in ("problem_id", "n_tokens", "correct") if c not in samples.columns]
    if missing:
        raise ValueError(f"samples lack column(s) {missing}")
    g = samples.groupby("problem_id", sort=True)
    out = pd.DataFrame(
        {
            "mean_tokens": g["n_tokens"].mean(),
            "std_tokens": g["n_tokens"].std(ddof=0),
            "accuracy": g["correct"].mean(),
            "k": g.size(),
        }
    ).reset_index()
    for col in ("level", "dataset"):
        if col in samples.columns:
            out = out.merge(g[col].first().reset_index(), on="problem_id")
    return out
