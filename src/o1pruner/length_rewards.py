"""The on-policy length rewards: one function per method, over the G responses to one prompt.

Every function takes the group's response lengths `n_tokens` (generated ids, end-of-turn
included, as everywhere in the workflow), `correct` (graded like the evaluation) and `finished`
(the response ended before the token cap), plus the prompt's reference statistics and its own
settings, and returns one reward per response. GRPO then turns rewards into advantages within
the group, so an additive constant per group does not change training.

Functions marked `group=True` in OBJECTIVES read the other responses of the group (its shortest
correct length, its length range, its correct lengths' mean); they must be given the whole group
(`train.grpo.GroupRewards` gathers it across processes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _arrays(n_tokens, correct):
    return np.asarray(n_tokens, dtype=float), np.asarray(correct, dtype=bool)


def o1_pruner_online(n_tokens, correct, finished, ref_mean_tokens, ref_accuracy, *, lam: float, clip=None):
    """O1-Pruner's length-harmonizing reward (arXiv 2501.12570), on fresh rollouts:

        R(x, y) = L_ref(x) / L(y) - 1 + lambda * (A(x, y) - A_ref(x))

    L_ref, A_ref: the reference model's mean length and accuracy on the problem from its K
    pre-samples (the `baseline` stage); clipped to `clip` as the released code clips it."""
    n, c = _arrays(n_tokens, correct)
    r = np.asarray(ref_mean_tokens, dtype=float) / n - 1.0 + lam * (c - np.asarray(ref_accuracy, dtype=float))
    return np.clip(r, clip[0], clip[1]) if clip is not None else r


def kimi_length_penalty(n_tokens, correct, finished, ref_mean_tokens, ref_accuracy, *, weight: float):
    """Kimi k1.5's length reward (arXiv 2501.12599, sec. 2.3.3) added to the correctness reward:

        lambda_i = 0.5 - (L_i - min_j L_j) / (max_j L_j - min_j L_j)
        len_reward_i = lambda_i if correct_i else min(0, lambda_i)
        R_i = 1[correct_i] + weight * len_reward_i

    over the G responses j of the prompt; 0 when they all have one length."""
    n, c = _arrays(n_tokens, correct)
    spread = n.max() - n.min()
    lam = 0.5 - (n - n.min()) / spread if spread > 0 else np.zeros_like(n)
    return c + weight * np.where(c, lam, np.minimum(0.0, lam))


def shorter_better(n_tokens, correct, finished, ref_mean_tokens, ref_accuracy, *, alpha: float, beta: float):
    """ShorterBetter (arXiv 2504.21370), the sample optimal length as the target:

    SOL = min{L_j : j correct} if any response is correct, else mean_j L_j
    R_i = alpha * 1[correct_i] - beta * |L_i - SOL|"""
    n, c = _arrays(n_tokens, correct)
    sol = n[c].min() if c.any() else n.mean()
    return alpha * c - beta * np.abs(n - sol)


def length_normalized(n_tokens, correct, finished, ref_mean_tokens, ref_accuracy, *, alpha: float):
    """Arora & Zanette's reward (arXiv 2502.04463), length relative to the correct ones:

        R_i = 1[correct_i] * (1 - alpha * sigmoid((L_i - mean(L_correct)) / std(L_correct)))

    mean and std over the group's correct responses; std 0 (one correct length) gives z = 0. As
    released (Zanette-Labs/efficient-reasoning), a response cut off before its end token counts
    as not correct: it scores 0 and stays out of the mean and std, whatever its extracted answer."""
    n, c = _arrays(n_tokens, correct)
    c = c & np.asarray(finished, dtype=bool)
    if not c.any():
        return np.zeros_like(n)
    mean, std = n[c].mean(), n[c].std()
    z = (n - mean) / std if std > 0 else np.zeros_like(n)
    return c * (1.0 - alpha / (1.0 + np.exp(-z)))


def accuracy(n_tokens, correct, finished, ref_mean_tokens, ref_accuracy):
    """No length term: R_i = 1[correct_i]. The control for every length reward (plain GRPO; with
    a shorter completion cap, what arXiv 2604.24003 finds matches ThinkPrune and LAPO)."""
    return _arrays(n_tokens, correct)[1].astype(float)


def hard_cap(n_tokens, correct, finished, ref_mean_tokens, ref_accuracy, *, cap_tokens: int):
    """ThinkPrune's reward (arXiv 2504.01296): generation stops at the cap and a response
    that has not answered within it scores 0:

        R_i = 1[correct_i and finished_i and L_i <= cap]"""
    n, c = _arrays(n_tokens, correct)
    return (c & np.asarray(finished, dtype=bool) & (n <= cap_tokens)).astype(float)


@dataclass(frozen=True)
class Objective:
    function: object  # its keyword settings come from job_settings.objective_settings
    group: bool  # needs the whole group of responses to one prompt (runs.GROUP_OBJECTIVES)


# The `objective` of a grpo method (runs.OBJECTIVES) -> its reward.
OBJECTIVES = {
    "o1_pruner": Objective(o1_pruner_online, group=False),
    "kimi": Objective(kimi_length_penalty, group=True),
    "shorter_better": Objective(shorter_better, group=True),
    "length_normalized": Objective(length_normalized, group=True),
    "hard_cap": Objective(hard_cap, group=False),
    "accuracy": Objective(accuracy, group=False),
}


def group_rewards(objective: str, groups: list[dict], settings: dict) -> list[np.ndarray]:
    """The rewards of each group (a dict of the arrays above), one objective, its settings."""
    fn = OBJECTIVES[objective].function
    return [
        np.asarray(
            fn(g["n_tokens"], g["correct"], g["finished"], g["ref_mean_tokens"], g["ref_accuracy"], **settings),
            dtype=float,
        )
        for g in groups
    ]
