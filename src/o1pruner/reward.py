"""The length-harmonizing reward and the training-set construction of O1-Pruner.

For a sample y of problem x with reference statistics (L_ref(x), A_ref(x)) estimated from K
pre-samples:

    R(x, y) = L_ref(x) / L(y) - 1 + lambda * (A(x, y) - A_ref(x))

The released code then clips R to [-2, 4], keeps m samples per problem and z-scores the
clipped rewards over the whole training set to obtain the advantage.

`length_term="correct_only"` (the `o1_pruner_gated` method, not the paper's) pays the length
term to right samples only:

    R_gated(x, y) = A(x, y) * (L_ref(x) / L(y) - 1) + lambda * (A(x, y) - A_ref(x))

Why: the length term is unbounded above (a sample a quarter of the reference length earns 3),
the accuracy term at most lambda. Where a short style is often wrong (the estimate-check toy's
one-shot estimate), the paper's reward pays a wrong short sample more than a right long one, so
training moves to the short style and accuracy collapses (the report's "What the reward asks
for" table). Gated, a wrong sample gets only the accuracy term, so a style is paid for its
length only as often as it is right; among right samples the shorter still wins, so redundant
thinking is still pruned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LENGTH_TERMS = ("ratio", "correct_only")


def length_harmonizing_reward(n_tokens, correct, mean_tokens, accuracy, lam: float, length_term: str = "ratio"):
    """R = mean_tokens / n_tokens - 1 + lam * (correct - accuracy), elementwise; with
    `length_term="correct_only"` the length term counts for right samples only."""
    if length_term not in LENGTH_TERMS:
        raise ValueError(f"length_term must be one of {LENGTH_TERMS}, got {length_term!r}")
    n_tokens = np.asarray(n_tokens, dtype=float)
    correct = np.asarray(correct, dtype=float)
    length = np.asarray(mean_tokens, dtype=float) / n_tokens - 1.0
    if length_term == "correct_only":
        length = correct * length
    return length + lam * (correct - np.asarray(accuracy, dtype=float))


def advantages(raw: np.ndarray, clip: tuple[float, float] | None, normalize: str) -> np.ndarray:
    """Clip the raw rewards, then z-score them over the set (`normalize="zscore"`) or not."""
    a = np.asarray(raw, dtype=float)
    if clip is not None:
        a = np.clip(a, clip[0], clip[1])
    if normalize == "zscore":
        std = a.std()
        a = (a - a.mean()) / (std if std > 0 else 1.0)
    elif normalize != "none":
        raise ValueError(f"normalize must be 'zscore' or 'none', got {normalize!r}")
    return a


def draw_samples(samples: pd.DataFrame, samples_per_problem: int, seed: int) -> pd.DataFrame:
    """m samples per problem (seeded draw, without replacement), problems in id order.

    The draw depends on m and the seed only, not on the reward, so variants that differ in
    lambda train on the same samples and share their reference log-probs.
    """
    rng = np.random.default_rng(seed)
    picked = []
    for _, group in samples.groupby("problem_id", sort=True):
        take = min(samples_per_problem, len(group))
        picked.append(group.iloc[np.sort(rng.choice(len(group), size=take, replace=False))])
    return pd.concat(picked, ignore_index=True)


def add_rewards(
    drawn: pd.DataFrame,
    stats: pd.DataFrame,
    lam: float,
    clip: tuple[float, float] | None,
    normalize: str,
    length_term: str = "ratio",
) -> pd.DataFrame:
    """The drawn samples with the reference statistics, reward and advantage.

    The statistics use all K samples (`stats`); only the drawn samples enter training.
    """
    out = drawn.merge(
        stats[["problem_id", "mean_tokens", "accuracy"]], on="problem_id", how="left", validate="many_to_one"
    )
    if out["mean_tokens"].isna().any():
        missing = out.loc[out["mean_tokens"].isna(), "problem_id"].unique()[:5]
        raise ValueError(f"samples without reference statistics, e.g. problem_id {list(missing)}")
    out["reward_raw"] = length_harmonizing_reward(
        out["n_tokens"], out["correct"], out["mean_tokens"], out["accuracy"], lam, length_term
    )
    out["advantage"] = advantages(out["reward_raw"].to_numpy(), clip, normalize)
    return out


def difficulty_band(stats: pd.DataFrame, lo: float, hi: float) -> set:
    """Problems whose difficulty rank lies in [lo, hi) of the set, hardest first.

    Rank: pre-sampled accuracy ascending, ties broken by longer mean length (harder), then id.
    The paper's Figure 4 trains on the hardest 0-40%, 30-70% and easiest 60-100%.
    """
    ranked = stats.sort_values(["accuracy", "mean_tokens", "problem_id"], ascending=[True, False, True])
    n = len(ranked)
    return set(ranked["problem_id"].iloc[int(round(lo * n)) : int(round(hi * n))])
