import pandas as pd

from o1pruner.baseline_data import shortest_correct, shortest_vs_longest


def samples():
    rows = [
        # problem a: correct at 30, 10, 20 tokens; wrong at 50
        ("a", 0, 30, True),
        ("a", 1, 10, True),
        ("a", 2, 50, False),
        ("a", 3, 20, True),
        # problem b: nothing correct
        ("b", 0, 5, False),
        ("b", 1, 7, False),
        # problem c: one correct sample, which is also the longest
        ("c", 0, 40, True),
        ("c", 1, 12, False),
    ]
    df = pd.DataFrame(rows, columns=["problem_id", "sample_idx", "n_tokens", "correct"])
    df["response"] = [f"r{p}{i}" for p, i in zip(df["problem_id"], df["sample_idx"])]
    df["response_ids"] = [[i] * n for i, n in zip(df["sample_idx"], df["n_tokens"])]
    return df


def test_sft_takes_the_m_shortest_correct():
    sel = shortest_correct(samples(), m=2)
    assert list(zip(sel["problem_id"], sel["sample_idx"])) == [("a", 1), ("a", 3), ("c", 0)]


def test_dpo_pairs_shortest_correct_against_the_longest():
    pairs = shortest_vs_longest(samples(), m=2)
    got = list(zip(pairs["problem_id"], pairs["chosen_idx"], pairs["rejected_idx"]))
    # a: chosen 1 (10 tokens) and 3 (20) vs rejected 2 (50 tokens, wrong); c: the only correct
    # sample is the longest, so there is no pair; b: no correct sample.
    assert got == [("a", 1, 2), ("a", 3, 2)]
    assert pairs["chosen"].tolist() == ["ra1", "ra3"] and pairs["rejected"].tolist() == ["ra2", "ra2"]
    assert (pairs["rejected_tokens"] > pairs["chosen_tokens"]).all()
