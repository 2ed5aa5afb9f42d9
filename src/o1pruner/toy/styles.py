"""Which "Wait," segments a model keeps on the estimate-check toy: the useful check or the
redundant restatements, and which of the two the reward asks for."""

from __future__ import annotations

import re

import pandas as pd

from .tasks import CHECK_OPENING, OVERTHINKING_MARKER


def solution_styles(responses: pd.DataFrame) -> pd.DataFrame:
    """Share of responses that keep the step-by-step check, redundant restatements per response,
    accuracy (%) and mean tokens, per `method` and `level` (seeds pooled)."""
    d = responses.assign(
        check_kept=responses["response"].str.contains(CHECK_OPENING, regex=False),
        restatements=responses["response"].str.count(re.escape(OVERTHINKING_MARKER)),
    )
    d["restatements"] -= d["check_kept"].astype(int)
    out = d.groupby(["method", "level"], sort=False).agg(
        n=("correct", "size"),
        check_kept=("check_kept", "mean"),
        restatements=("restatements", "mean"),
        accuracy=("correct", "mean"),
        mean_tokens=("n_tokens", "mean"),
    )
    out[["check_kept", "accuracy"]] *= 100
    return out.reset_index()


def reward_by_style(
    presamples: pd.DataFrame,
    stats: pd.DataFrame,
    lambdas: list[float],
    clip: tuple[float, float] | None,
    split_lambda: float | None = None,
) -> pd.DataFrame:
    """Mean (clipped) O1-Pruner reward of the pre-samples that check vs those that answer with
    the estimate, per level and lambda: which style the reward pushes the policy towards. At
    `split_lambda` (the run's own) also the mean over right and over wrong samples apart, and the
    mean of the gated reward (length term for right samples only, `o1_pruner_gated`)."""
    from ..reward import length_harmonizing_reward

    d = presamples.merge(stats[["problem_id", "mean_tokens", "accuracy"]], on="problem_id", suffixes=("", "_ref"))
    d["style"] = d["response"].str.contains(CHECK_OPENING, regex=False).map({True: "check", False: "estimate only"})
    reward_cols = {}
    for lam in lambdas:
        raw = length_harmonizing_reward(d["n_tokens"], d["correct"], d["mean_tokens"], d["accuracy"], lam)
        col = f"reward_lambda{lam:g}"
        d[col] = raw.clip(*clip) if clip else raw
        reward_cols[col] = (col, "mean")
    if split_lambda is not None:
        col = f"reward_lambda{split_lambda:g}"
        d["reward_if_right"] = d[col].where(d["correct"])
        d["reward_if_wrong"] = d[col].where(~d["correct"].astype(bool))
        reward_cols.update(reward_if_right=("reward_if_right", "mean"), reward_if_wrong=("reward_if_wrong", "mean"))
        # the same lambda with the length term paid to right samples only (o1_pruner_gated)
        gated = length_harmonizing_reward(
            d["n_tokens"], d["correct"], d["mean_tokens"], d["accuracy"], split_lambda, "correct_only"
        )
        col = f"reward_gated_lambda{split_lambda:g}"
        d[col] = gated.clip(*clip) if clip else gated
        reward_cols[col] = (col, "mean")
    out = d.groupby(["level", "style"]).agg(
        share=("correct", "size"), accuracy=("correct", "mean"), mean_tokens=("n_tokens", "mean"), **reward_cols
    )
    out["share"] = 100 * out["share"] / out.groupby(level="level")["share"].transform("sum")
    out["accuracy"] *= 100
    return out.reset_index()
