import pandas as pd
import pytest

from o1pruner.reference_stats import aggregate


def test_aggregate_per_problem():
    samples = pd.DataFrame(
        {
            "problem_id": ["p1", "p1", "p1", "p2", "p2"],
            "sample_idx": [0, 1, 2, 0, 1],
            "n_tokens": [10, 20, 30, 7, 9],
            "correct": [True, False, True, False, False],
            "level": [1, 1, 1, 3, 3],
        }
    )
    s = aggregate(samples).set_index("problem_id")
    assert s.loc["p1", "mean_tokens"] == 20 and s.loc["p1", "k"] == 3
    assert s.loc["p1", "accuracy"] == pytest.approx(2 / 3)
    assert s.loc["p2", "accuracy"] == 0 and s.loc["p2", "mean_tokens"] == 8 and s.loc["p2", "level"] == 3


def test_aggregate_names_missing_columns():
    with pytest.raises(ValueError, match="n_tokens"):
        aggregate(pd.DataFrame({"problem_id": ["a"], "correct": [True]}))
