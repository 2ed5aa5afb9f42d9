"""avg@n, the unbiased pass@k and intervals bootstrapped over problems."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from o1pruner.sampled_metrics import bootstrap_interval, pass_at_k, sampled_metrics


def exhaustive_pass_at_k(n: int, c: int, k: int) -> float:
    """The definition: over every k-subset of the n responses, the share holding a correct one."""
    responses = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(responses[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n,c,k", [(4, 0, 1), (4, 1, 2), (5, 2, 3), (8, 3, 4), (6, 6, 2), (10, 1, 10), (7, 4, 1)])
def test_pass_at_k_is_the_exhaustive_expectation(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(exhaustive_pass_at_k(n, c, k), abs=1e-12)


def test_the_with_replacement_estimate_is_biased_low():
    """Negative case: 1 - (1 - c/n)^k, the "best of k" shortcut, is not the exhaustive value."""
    n, c, k = 8, 3, 4
    biased = 1 - (1 - c / n) ** k
    assert biased < exhaustive_pass_at_k(n, c, k) - 0.05
    assert pass_at_k(n, c, 1) == pytest.approx(c / n) and pass_at_k(16, 1, 16) == 1.0


def test_pass_at_k_needs_k_at_most_n():
    with pytest.raises(ValueError, match=r"pass@5 needs 1 <= k <= n = 4"):
        pass_at_k(4, 1, 5)
    # large n: the product form equals the binomial closed form (no overflow)
    assert math.isclose(pass_at_k(1000, 10, 100), 1 - math.comb(990, 100) / math.comb(1000, 100), rel_tol=1e-9)


def test_bootstrap_interval_covers_the_mean_and_narrows_with_more_problems():
    rng = np.random.default_rng(0)
    few, many = rng.random(30) < 0.6, rng.random(3000) < 0.6
    lo, hi = bootstrap_interval(few)
    assert lo < few.mean() < hi
    lo2, hi2 = bootstrap_interval(many)
    assert lo2 < many.mean() < hi2 and (hi2 - lo2) < (hi - lo) / 5
    assert bootstrap_interval(few) == bootstrap_interval(few)  # seeded


def test_sampled_metrics_resample_problems_not_responses():
    """Two problems, 16 samples each, one always right, one always wrong: avg@16 is 50%, and
    the interval over problems is wide (0-100%), where a binomial interval over the 32
    responses would claim about +-17 points."""
    rows = [
        {"problem_id": p, "correct": p == "easy", "n_tokens": 10 if p == "easy" else 30, "truncated": p == "hard"}
        for p in ("easy", "hard")
        for _ in range(16)
    ]
    m = sampled_metrics(pd.DataFrame(rows), ks=(1, 4, 16))
    assert m.samples_per_problem == 16 and m.accuracy == 50.0
    assert m.accuracy_interval == (0.0, 100.0)
    assert m.pass_at == {1: 50.0, 4: 50.0, 16: 50.0}
    assert m.mean_tokens == 20.0 and m.truncated_rate == 50.0
    d = m.as_dict()
    assert d["pass@4"] == 50.0 and d["accuracy_ci95"] == [0.0, 100.0]


def test_unequal_sample_counts_are_refused():
    df = pd.DataFrame({"problem_id": ["a", "a", "b"], "correct": [1, 0, 1], "n_tokens": 1, "truncated": False})
    with pytest.raises(ValueError, match="different numbers of samples"):
        sampled_metrics(df)
