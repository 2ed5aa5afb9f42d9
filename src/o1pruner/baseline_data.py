"""Training data of the paper's baseline methods, selected from the same cached pre-samples.

- `shortest_correct` (SFT): the m shortest correct samples of each problem.
- `shortest_vs_longest` (DPO): the m shortest correct samples as `chosen`, each paired with the
  problem's longest sample as `rejected` (beta 0.1 in the paper).
Problems without a correct sample contribute nothing; a pair whose rejected sample is no
longer than its chosen one carries no length preference and is dropped.
"""

from __future__ import annotations

import pandas as pd


def _shortest_correct(group: pd.DataFrame, m: int) -> pd.DataFrame:
    correct = group[group["correct"].astype(bool)]
    return correct.sort_values(["n_tokens", "sample_idx"], kind="stable").head(m)


def shortest_correct(samples: pd.DataFrame, m: int) -> pd.DataFrame:
    parts = [_shortest_correct(g, m) for _, g in samples.groupby("problem_id", sort=True)]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else samples.iloc[:0].copy()


def shortest_vs_longest(samples: pd.DataFrame, m: int) -> pd.DataFrame:
    rows = []
    for pid, g in samples.groupby("problem_id", sort=True):
        chosen = _shortest_correct(g, m)
        if chosen.empty:
            continue
        rejected = g.sort_values(["n_tokens", "sample_idx"], ascending=[False, True], kind="stable").iloc[0]
        for c in chosen.itertuples(index=False):
            if rejected["n_tokens"] <= c.n_tokens:
                continue
            rows.append(
                {
                    "problem_id": pid,
                    "chosen_idx": c.sample_idx,
                    "rejected_idx": int(rejected["sample_idx"]),
                    "chosen_ids": list(c.response_ids) if "response_ids" in g else None,
                    "rejected_ids": list(rejected["response_ids"]) if "response_ids" in g else None,
                    "chosen": c.response if "response" in g else None,
                    "rejected": rejected["response"] if "response" in g else None,
                    "chosen_tokens": c.n_tokens,
                    "rejected_tokens": int(rejected["n_tokens"]),
                }
            )
    return pd.DataFrame(rows)


# The `data` of a registered method (runs.DATA_SELECTIONS) -> its selection.
SELECTIONS = {"shortest_correct": shortest_correct, "shortest_vs_longest": shortest_vs_longest}
