"""The on-policy length rewards and DAST's budget pairs, each against its paper's equation
computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from o1pruner import job_settings, runs
from o1pruner.baseline_data import budget_pairs, budget_score, token_length_budget
from o1pruner.config.load import load_config
from o1pruner.length_rewards import (
    OBJECTIVES,
    group_rewards,
    hard_cap,
    kimi_length_penalty,
    length_normalized,
    o1_pruner_online,
    shorter_better,
)

N = [10, 20, 40, 30]
C = [True, True, False, True]
F = [True, True, False, True]
REF = dict(ref_mean_tokens=[20.0] * 4, ref_accuracy=[0.5] * 4)


def test_o1_pruner_online_is_the_offline_reward_on_fresh_rollouts():
    r = o1_pruner_online(N, C, F, **REF, lam=2.0, clip=None)
    assert r == pytest.approx([20 / 10 - 1 + 1.0, 0 + 1.0, 20 / 40 - 1 - 1.0, 20 / 30 - 1 + 1.0])
    assert o1_pruner_online([4], [True], [True], [20.0], [0.5], lam=2.0, clip=[-2, 4])[0] == 4  # 5 clipped


def test_kimi_penalty_rewards_short_correct_and_never_pays_wrong_ones():
    r = kimi_length_penalty(N, C, F, **REF, weight=1.0)
    lam = [0.5 - (n - 10) / 30 for n in N]  # 0.5, 0.1667, -0.5, -0.1667
    assert r == pytest.approx([1 + lam[0], 1 + lam[1], min(0.0, lam[2]), 1 + lam[3]])
    # a wrong response shorter than the rest gets no length bonus
    assert kimi_length_penalty([5, 20], [False, True], [True, True], [1, 1], [0, 0], weight=1.0)[0] == 0.0
    # one length: no length term
    assert kimi_length_penalty([7, 7], [True, False], [True, True], [1, 1], [0, 0], weight=1.0) == pytest.approx([1, 0])


def test_shorter_better_targets_the_shortest_correct_length():
    r = shorter_better(N, C, F, **REF, alpha=2.0, beta=0.1)
    assert r == pytest.approx([2.0, 2.0 - 1.0, -3.0, 2.0 - 2.0])
    # no correct response: the target is the group's mean length (25)
    r = shorter_better([10, 40], [False, False], [True, True], [1, 1], [0, 0], alpha=2.0, beta=0.1)
    assert r == pytest.approx([-1.5, -1.5])


def test_length_normalized_penalises_correct_responses_by_their_z_score():
    r = length_normalized(N, C, F, **REF, alpha=0.2)
    correct = np.array([10.0, 20.0, 30.0])
    z = (np.array(N, dtype=float) - correct.mean()) / correct.std()
    sig = 1 / (1 + np.exp(-z))
    assert r == pytest.approx([1 - 0.2 * sig[0], 1 - 0.2 * sig[1], 0.0, 1 - 0.2 * sig[3]])
    assert r[0] > r[1] > r[3]  # shorter correct is better
    assert length_normalized([5, 9], [False, False], [True, True], [1, 1], [0, 0], alpha=0.2) == pytest.approx([0, 0])
    assert length_normalized([5, 9], [True, False], [True, True], [1, 1], [0, 0], alpha=0.2)[0] == pytest.approx(0.9)


def test_length_normalized_counts_a_cut_off_response_as_not_correct():
    """As released: a response without its end token scores 0 and is left out of the correct
    lengths' mean and std, even where the grader found a right answer in it."""
    n, c, ref = [10, 20, 30, 64], [True, True, True, True], dict(ref_mean_tokens=[20.0] * 4, ref_accuracy=[1.0] * 4)
    cut = length_normalized(n, c, [True, True, True, False], **ref, alpha=0.4)
    finished = length_normalized(
        n[:3], c[:3], [True] * 3, ref_mean_tokens=[20.0] * 3, ref_accuracy=[1.0] * 3, alpha=0.4
    )
    assert cut[3] == 0.0
    assert cut[:3] == pytest.approx(finished)  # the statistics of the three finished ones only
    # counted as finished, the long response would shift the mean and std and pay itself 0.6+
    assert length_normalized(n, c, [True] * 4, **ref, alpha=0.4)[3] > 0.6


def test_hard_cap_scores_only_finished_correct_answers_within_the_cap():
    r = hard_cap([10, 20, 40, 30], [True, True, True, True], [True, False, True, True], **REF, cap_tokens=30)
    assert list(r) == [1.0, 0.0, 0.0, 1.0]


def test_group_objectives_depend_on_the_rest_of_the_group_and_the_others_do_not():
    """What `group=True` claims: scoring a response with part of its group changes its reward."""
    settings = {
        "o1_pruner": {"lam": 2.0, "clip": None},
        "kimi": {"weight": 1.0},
        "shorter_better": {"alpha": 2.0, "beta": 0.1},
        "length_normalized": {"alpha": 0.2},
        "hard_cap": {"cap_tokens": 35},
        "accuracy": {},
    }
    assert set(settings) == set(OBJECTIVES) == set(runs.OBJECTIVES)
    assert {k for k, o in OBJECTIVES.items() if o.group} == set(runs.GROUP_OBJECTIVES)
    group = {"n_tokens": np.array(N), "correct": np.array(C), "finished": np.array(F)}
    group |= {k: np.array(v) for k, v in REF.items()}
    halves = [{k: v[:2] for k, v in group.items()}, {k: v[2:] for k, v in group.items()}]
    for name, objective in OBJECTIVES.items():
        whole = group_rewards(name, [group], settings[name])[0]
        split = np.concatenate(group_rewards(name, halves, settings[name]))
        assert (not np.allclose(whole, split)) == objective.group, name


def test_every_objective_gets_its_settings_from_the_config():
    config = load_config("config/config.yaml")
    for m in runs.METHODS.values():
        if m.trainer != "grpo":
            continue
        g = job_settings.grpo_settings(config, m.name, job_settings.method_training(config, m.name))
        OBJECTIVES[m.objective].function([10], [True], [True], [10.0], [1.0], **g["objective_settings"])
    thinkprune = job_settings.training_settings(config, "thinkprune")["grpo"]
    assert thinkprune["max_completion_length"] == thinkprune["objective_settings"]["cap_tokens"]


def test_grpo_overrides_merge_key_by_key():
    config = load_config("config/config.yaml")
    config["training"]["method_overrides"] = {"thinkprune": {"grpo": {"hard_cap_tokens": 48}}}
    g = job_settings.training_settings(config, "thinkprune")["grpo"]
    assert g["objective_settings"] == {"cap_tokens": 48}
    assert g["generations"] == config["training"]["grpo"]["generations"]
    assert "grpo" not in job_settings.training_settings(config, "sft")


def test_token_length_budget_and_score_follow_dast():
    n, c = [10, 20, 30, 60], [True, True, False, False]
    assert token_length_budget(n, c) == pytest.approx(0.5 * 15 + 0.5 * 60)
    s = budget_score([20, 40, 60, 40], [True, True, False, False], 40.0)
    assert s == pytest.approx([max(-0.5 * -0.5 + 0.5, 0.1), 0.5, min(0.9 * 0.5 - 0.1, -0.1), -0.1])
    assert budget_score([400], [True], 40.0)[0] == 0.1  # floor of a correct answer


def test_budget_pairs_prefer_short_correct_and_long_incorrect():
    rows = [(i, n, c) for i, (n, c) in enumerate([(10, True), (30, True), (50, True), (20, False), (80, False)])]
    samples = pd.DataFrame(
        [
            {
                "problem_id": "p",
                "sample_idx": i,
                "n_tokens": n,
                "correct": c,
                "response": f"r{i}",
                "response_ids": [1] * n,
            }
            for i, n, c in rows
        ]
    )
    pairs = budget_pairs(samples, m=10, margin=0.05)
    correct = pairs[pairs["kind"] == "dual_correct"]
    incorrect = pairs[pairs["kind"] == "dual_incorrect"]
    assert (correct["chosen_tokens"] < correct["rejected_tokens"]).all() and len(correct)
    assert (incorrect["chosen_tokens"] > incorrect["rejected_tokens"]).all() and len(incorrect)
    assert (pairs["chosen_score"] - pairs["rejected_score"] > 0.05).all()
    assert len(budget_pairs(samples, m=1, margin=0.05)) == 2  # the widest pair of each kind
    assert budget_pairs(samples, m=10, margin=math.inf).empty


# Which rewards always score a right response above a wrong one in the same group (at these
# settings: the papers' defaults where the toy does not change them).
RIGHT_ABOVE_WRONG = {
    "o1_pruner": ({"lam": 2.0, "clip": [-2.0, 4.0]}, False),  # a short wrong answer out-earns a long right one
    "kimi": ({"weight": 1.0}, True),  # right >= 1 - 0.5w > 0 >= wrong while w < 2
    # inverts once beta x the group's length range exceeds alpha (at the toy's beta 0.02: 100 tokens)
    "shorter_better": ({"alpha": 2.0, "beta": 0.02}, False),
    "length_normalized": ({"alpha": 0.2}, True),  # right >= 1 - alpha > 0 = wrong
    "hard_cap": ({"cap_tokens": 128}, True),  # 1 or 0; a right answer beyond the cap ties a wrong one
    "accuracy": ({}, True),
}


def test_which_rewards_keep_every_right_response_above_every_wrong_one():
    """A property over 2,000 random groups of 8 (lengths 1-128, about half right, all finished and
    within the caps): the rewards marked True never pay a wrong response as much as a right one
    in its group; those marked False do, and docs/method.md says so."""
    assert set(RIGHT_ABOVE_WRONG) == set(OBJECTIVES)
    rng = np.random.default_rng(0)
    ever_inverted = dict.fromkeys(OBJECTIVES, False)
    for _ in range(2000):
        n = rng.integers(1, 129, size=8)
        c = rng.random(8) < 0.5
        if c.all() or not c.any():
            continue
        group = {"n_tokens": n, "correct": c, "finished": np.ones(8, bool),
                 "ref_mean_tokens": np.full(8, 40.0), "ref_accuracy": np.full(8, 0.5)}  # fmt: skip
        for name, (settings, _) in RIGHT_ABOVE_WRONG.items():
            r = group_rewards(name, [group], settings)[0]
            ever_inverted[name] |= bool(r[c].min() <= r[~c].max())
    assert {k: not v for k, v in ever_inverted.items()} == {k: v for k, (_, v) in RIGHT_ABOVE_WRONG.items()}
