import numpy as np
import pandas as pd
import pytest

from o1pruner.reward import add_rewards, advantages, draw_samples, length_harmonizing_reward


def test_reward_hand_computed():
    # Problem mean 100 tokens, accuracy 0.5; lambda 2.
    # 50 tokens, correct:   100/50 - 1 + 2*(1 - 0.5) = 1 + 1 = 2
    # 200 tokens, wrong:    100/200 - 1 + 2*(0 - 0.5) = -0.5 - 1 = -1.5
    # 100 tokens, correct:  0 + 1 = 1
    r = length_harmonizing_reward([50, 200, 100], [1, 0, 1], 100.0, 0.5, lam=2.0)
    np.testing.assert_allclose(r, [2.0, -1.5, 1.0])


def test_reward_lambda_zero_is_pure_length():
    r = length_harmonizing_reward([25, 100], [0, 1], 50.0, 0.9, lam=0.0)
    np.testing.assert_allclose(r, [1.0, -0.5])


def test_advantage_clip_then_zscore():
    raw = np.array([-5.0, 0.0, 6.0])
    clipped = np.array([-2.0, 0.0, 4.0])
    expected = (clipped - clipped.mean()) / clipped.std()
    np.testing.assert_allclose(advantages(raw, (-2, 4), "zscore"), expected)
    np.testing.assert_allclose(advantages(raw, (-2, 4), "none"), clipped)
    np.testing.assert_allclose(advantages(raw, None, "none"), raw)


def test_advantage_rejects_unknown_normalisation():
    with pytest.raises(ValueError, match="normalize"):
        advantages(np.array([1.0]), None, "minmax")


def _samples():
    rows = []
    for pid, lengths, correct in [("a", [10, 20, 30, 40], [1, 1, 0, 0]), ("b", [5, 5, 5, 5], [1, 1, 1, 1])]:
        for j, (n, c) in enumerate(zip(lengths, correct)):
            rows.append({"problem_id": pid, "sample_idx": j, "n_tokens": n, "correct": bool(c)})
    return pd.DataFrame(rows)


def test_training_set_uses_all_k_for_means_and_m_for_training():
    from o1pruner.reference_stats import aggregate

    samples = _samples()
    stats = aggregate(samples)
    ts = add_rewards(draw_samples(samples, 2, seed=0), stats, lam=2.0, clip=(-2, 4), normalize="none")
    assert ts.groupby("problem_id").size().to_dict() == {"a": 2, "b": 2}
    a = ts[ts["problem_id"] == "a"].iloc[0]
    assert a["mean_tokens"] == 25.0 and a["accuracy"] == 0.5
    expected = 25.0 / a["n_tokens"] - 1 + 2.0 * (float(a["correct"]) - 0.5)
    assert a["reward_raw"] == pytest.approx(expected)
    assert a["advantage"] == pytest.approx(np.clip(expected, -2, 4))
    # Same seed, same draw; another seed may differ.
    again = add_rewards(draw_samples(samples, 2, seed=0), stats, 5.0, (-2, 4), "zscore")
    assert again["sample_idx"].tolist() == ts["sample_idx"].tolist()  # the draw does not depend on lambda


def test_training_set_requires_statistics_for_every_problem():
    from o1pruner.reference_stats import aggregate

    samples = _samples()
    stats = aggregate(samples[samples["problem_id"] == "a"])
    with pytest.raises(ValueError, match="problem_id"):
        add_rewards(draw_samples(samples, 2, 0), stats, 2.0, None, "none")


def test_difficulty_bands_rank_by_accuracy_then_length():
    from o1pruner.reward import difficulty_band

    stats = pd.DataFrame(
        {
            "problem_id": list("abcdefghij"),
            "accuracy": [0.1, 0.9, 0.5, 1.0, 0.0, 0.5, 1, 1, 1, 1],
            "mean_tokens": [10, 10, 30, 10, 10, 20, 50, 40, 30, 20],
        }
    )
    # hardest first: e(0.0) a(0.1) c(0.5, 30) f(0.5, 20) b(0.9) g h i j d (1.0 by length)
    assert difficulty_band(stats, 0.0, 0.4) == {"e", "a", "c", "f"}
    assert difficulty_band(stats, 0.3, 0.7) == {"f", "b", "g", "h"}
    assert difficulty_band(stats, 0.6, 1.0) == {"h", "i", "j", "d"}


def test_gated_length_term_pays_only_right_samples():
    """o1_pruner_gated: a wrong sample a quarter of the reference length earns no length term, so
    it no longer beats a right sample of the reference length (the paper's reward ranks them the
    other way round at lambda 2: the estimate-check toy's collapse)."""
    n, correct, mean, acc = [25, 100], [0, 1], [100, 100], [0.5, 0.5]
    paper = length_harmonizing_reward(n, correct, mean, acc, 2.0)
    gated = length_harmonizing_reward(n, correct, mean, acc, 2.0, "correct_only")
    assert paper == pytest.approx([3.0 - 1.0, 0.0 + 1.0]) and paper[0] > paper[1]
    assert gated == pytest.approx([-1.0, 1.0]) and gated[0] < gated[1]
    # among right samples the shorter still earns more
    assert length_harmonizing_reward([50, 100], [1, 1], [100, 100], [0.5, 0.5], 2.0, "correct_only")[
        0
    ] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="length_term"):
        length_harmonizing_reward(n, correct, mean, acc, 2.0, "bounded")
