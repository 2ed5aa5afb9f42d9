"""Training data of the paper's baseline methods, selected from the same cached pre-samples.

- `shortest_correct` (SFT): the m shortest correct samples of each problem.
- `shortest_vs_longest` (DPO, SimPO): the m shortest correct samples as `chosen`, each paired
  with the problem's longest sample as `rejected` (beta 0.1 in the paper).
- `budget_pairs` (DAST): pairs ranked by a score against the problem's token-length budget.
Problems without a correct sample contribute nothing; a pair whose rejected sample is no
longer than its chosen one carries no length preference and is dropped.
"""

from __future__ import annotations

import numpy as np
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
            rows.append(_pair(pid, c._asdict(), rejected))
    return pd.DataFrame(rows)


def _pair(problem_id, chosen, rejected, **extra) -> dict:
    """One preference row: the two samples' indices, ids, texts and lengths (+ `extra`)."""
    return {
        "problem_id": problem_id,
        "chosen_idx": int(chosen["sample_idx"]),
        "rejected_idx": int(rejected["sample_idx"]),
        "chosen_ids": list(chosen["response_ids"]) if "response_ids" in chosen else None,
        "rejected_ids": list(rejected["response_ids"]) if "response_ids" in rejected else None,
        "chosen": chosen["response"] if "response" in chosen else None,
        "rejected": rejected["response"] if "response" in rejected else None,
        "chosen_tokens": int(chosen["n_tokens"]),
        "rejected_tokens": int(rejected["n_tokens"]),
        **extra,
    }


def token_length_budget(n_tokens, correct) -> float:
    """DAST's Token Length Budget of one problem (arXiv 2503.04472):

        L_budget = p * mean(L_correct) + (1 - p) * L_max

    p the sampling accuracy, mean(L_correct) the mean length of the correct samples and L_max the
    longest sample. Easy problems (p near 1) get about their correct length, hard ones more."""
    n_tokens = np.asarray(n_tokens, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    p = correct.mean()
    mean_correct = n_tokens[correct].mean() if correct.any() else 0.0
    return float(p * mean_correct + (1.0 - p) * n_tokens.max())


def budget_score(n_tokens, correct, budget: float) -> np.ndarray:
    """DAST's budget-aware score (arXiv 2503.04472), with lambda = (L - L_budget) / L_budget:

    correct:   max(-0.5 * lambda + 0.5,  0.1)   (shorter than the budget scores higher)
    incorrect: min( 0.9 * lambda - 0.1, -0.1)   (a longer attempt scores higher: think more)
    """
    n_tokens = np.asarray(n_tokens, dtype=float)
    lam = (n_tokens - budget) / budget
    return np.where(
        np.asarray(correct, dtype=bool), np.maximum(-0.5 * lam + 0.5, 0.1), np.minimum(0.9 * lam - 0.1, -0.1)
    )


def budget_pairs(samples: pd.DataFrame, m: int, margin: float) -> pd.DataFrame:
    """DAST's preference pairs: within the correct samples of a problem and within its incorrect
    ones, every pair whose scores (`budget_score`) differ by more than `margin`, the higher score
    chosen; the m widest pairs of each kind per problem. Dual-correct pairs prefer the shorter
    correct sample, dual-incorrect pairs the longer attempt."""
    rows = []
    for pid, g in samples.groupby("problem_id", sort=True):
        g = g.assign(score=budget_score(g["n_tokens"], g["correct"], token_length_budget(g["n_tokens"], g["correct"])))
        for kind, part in (
            ("dual_correct", g[g["correct"].astype(bool)]),
            ("dual_incorrect", g[~g["correct"].astype(bool)]),
        ):
            records = part.sort_values("sample_idx").to_dict("records")
            pairs = [
                (a["score"] - b["score"], a, b) for a in records for b in records if a["score"] - b["score"] > margin
            ]
            pairs.sort(key=lambda t: (-t[0], t[1]["sample_idx"], t[2]["sample_idx"]))
            for _, a, b in pairs[:m]:
                rows.append(_pair(pid, a, b, kind=kind, chosen_score=a["score"], rejected_score=b["score"]))
    return pd.DataFrame(rows)


# The `data` of a registered method (runs.DATA_RULES, made by the `baseline_trainset` rule) -> the
# function that builds it, called with the samples and the job's BaselineTrainsetSettings.
BUILDERS = {
    "shortest_correct": lambda samples, s: shortest_correct(samples, s.samples_per_problem),
    "shortest_vs_longest": lambda samples, s: shortest_vs_longest(samples, s.samples_per_problem),
    "budget_pairs": lambda samples, s: budget_pairs(samples, s.samples_per_problem, s.score_margin),
}
