import random
import re

import pytest

from o1pruner.toy.tasks import OVERTHINKING_MARKER, Level, generate_toy_splits, make_problem, write_solution

LEVELS = [Level(2, 9), Level(3, 9), Level(4, 9)]


def test_generator_is_deterministic_and_seed_dependent():
    a = generate_toy_splits(0, 50, 30, LEVELS)
    b = generate_toy_splits(0, 50, 30, LEVELS)
    c = generate_toy_splits(1, 50, 30, LEVELS)
    assert a == b
    assert [r["problem"] for r in a[0]] != [r["problem"] for r in c[0]]


def test_splits_are_stratified_and_disjoint():
    train, test = generate_toy_splits(3, 300, 600, LEVELS)
    assert {lv: sum(r["level"] == lv for r in test) for lv in (1, 2, 3)} == {1: 200, 2: 200, 3: 200}
    assert not {r["problem"] for r in train} & {r["problem"] for r in test}
    assert len({r["problem"] for r in test}) == len(test)


def test_solutions_compute_the_answer_and_long_thought_uses_the_marker():
    train, _ = generate_toy_splits(0, 90, 3, LEVELS)
    rng = random.Random(0)
    for r in train:
        p = r["worked"]
        for long_thought in (False, True):
            sol = write_solution(rng, p, long_thought, 0.7)
            assert re.findall(r"\\boxed\{(\d+)\}", sol) == [r["answer"]]
            assert (OVERTHINKING_MARKER in sol) == long_thought
            # The arithmetic in the solution is right.
            for a, op, b, c in re.findall(r"(\d+) ([+-]) (\d+) = (\d+)", sol):
                assert int(a) + (int(b) if op == "+" else -int(b)) == int(c)
        assert len(p["events"]) == LEVELS[r["level"] - 1].steps
        assert all(0 <= e["after"] <= 9 for e in p["events"])


def test_tokenizer_ids_survive_save_and_reload_through_autotokenizer(tmp_path):
    from transformers import AutoTokenizer

    from o1pruner.prompt import render_prompt
    from o1pruner.toy.model import make_toy_model
    from o1pruner.toy.tokenizer import train_tokenizer

    train, test = generate_toy_splits(0, 200, 20, LEVELS)
    rng = random.Random(0)
    texts = [r["problem"] for r in train] + [write_solution(rng, r["worked"], True, 0.7) for r in train]
    tok = train_tokenizer(texts + ["system\nAnswer in \\boxed{}.\nuser\nassistant\n"], 1024)
    model = make_toy_model(tok, 32, 1, 2, 1, 64, 128, seed=0)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for r in test:
        text = render_prompt(tok, r["problem"], "Answer in \\boxed{}.") + write_solution(rng, r["worked"], True, 0.7)
        text += tok.eos_token
        assert reloaded(text, add_special_tokens=False).input_ids == tok(text, add_special_tokens=False).input_ids
        assert render_prompt(reloaded, r["problem"], "x") == render_prompt(tok, r["problem"], "x")
    ids = tok(" 17 + 3 = 20", add_special_tokens=False).input_ids
    assert reloaded.decode(ids) == " 17 + 3 = 20"
    # Whole words of the toy language are single tokens, digits are split as in Qwen2.
    assert len(tok(" Wait", add_special_tokens=False).input_ids) == 1
    assert reloaded.eos_token == "<|im_end|>" and reloaded.pad_token == "<|endoftext|>"


def _estimate_check_solutions(long_thought: bool, estimate_error: float, n: int = 90):
    from o1pruner.toy.tasks import write_estimate_check_solution

    train, _ = generate_toy_splits(0, n, 3, LEVELS)
    rng = random.Random(0)
    return [(r, write_estimate_check_solution(rng, r["worked"], long_thought, 0.7, estimate_error)) for r in train]


def test_estimate_check_long_thought_answers_with_the_checked_sum_even_after_a_wrong_estimate():
    from o1pruner.toy.tasks import CHECK_OPENING

    wrong_estimates = 0
    for r, sol in _estimate_check_solutions(True, estimate_error=0.5):
        expression, estimate = re.match(r"Estimate: ([\d+-]+)=(\d+)\.", sol).groups()
        assert eval(expression) == int(r["answer"])  # the estimate line restates the whole sum
        wrong_estimates += estimate != r["answer"]
        assert re.findall(r"\\boxed\{(\d+)\}", sol) == [r["answer"]]
        assert sol.split(" Wait,")[1].startswith(CHECK_OPENING.removeprefix("Wait,"))
        # The check's steps chain from the start value and are right: "4+8=12. 12+1=13."
        value = r["worked"]["start"]
        for a, op, b, c in re.findall(r"(\d+)([+-])(\d+)=(\d+)\.", sol.split(CHECK_OPENING)[1]):
            assert int(a) == value
            value += int(b) if op == "+" else -int(b)
            assert value == int(c)
        assert value == int(r["answer"])
    assert 25 <= wrong_estimates <= 65


def test_estimate_check_concise_answers_with_the_estimate_and_has_no_marker():
    exact = _estimate_check_solutions(False, estimate_error=0.0)
    assert all(re.findall(r"\\boxed\{(\d+)\}", sol) == [r["answer"]] for r, sol in exact)
    assert not any(OVERTHINKING_MARKER in sol for _, sol in exact)
    missed = _estimate_check_solutions(False, estimate_error=1.0)
    for r, sol in missed:
        boxed = int(re.findall(r"\\boxed\{(\d+)\}", sol)[0])
        assert boxed != int(r["answer"]) and abs(boxed - int(r["answer"])) <= 3 and boxed >= 0


def test_fast_prompt_examples_are_concise_and_the_default_stream_is_unchanged():
    from o1pruner.toy.pretrain import PretrainSettings, _examples

    default = _examples(random.Random(0), LEVELS, 200, set(), PretrainSettings())
    assert not any(fast for _, _, fast in default)
    # The default toy's random draws are exactly those made before the variant existed.
    rng = random.Random(0)
    expected = []
    while len(expected) < 200:
        level = rng.randint(1, 3)
        p = make_problem(rng, level, LEVELS[level - 1])
        expected.append((p["problem"], write_solution(rng, p, rng.random() < 0.7, 0.7), False))
    assert default == expected
    s = PretrainSettings(solution_style="estimate_check", estimate_error=(0.0, 0.2, 0.5), fast_prompt_fraction=0.2)
    mixed = _examples(random.Random(0), LEVELS, 400, set(), s)
    fast = [sol for _, sol, is_fast in mixed if is_fast]
    assert 40 <= len(fast) <= 120
    assert not any(OVERTHINKING_MARKER in sol for sol in fast)
    assert any(OVERTHINKING_MARKER in sol for _, sol, is_fast in mixed if not is_fast)


def test_solution_styles_counts_the_check_and_the_restatements_apart():
    import pandas as pd

    from o1pruner.toy.styles import solution_styles

    rows = [
        ("a", 1, "Estimate: 2+3=5. Wait, let me check. Wait, so far 2. 2+3=5. The answer is \\boxed{5}.", True, 20),
        ("a", 1, "Estimate: 2+3=6. The answer is \\boxed{6}.", False, 10),
        ("b", 1, "Estimate: 2+3=5. Wait, let me check. 2+3=5. The answer is \\boxed{5}.", True, 16),
    ]
    df = pd.DataFrame(rows, columns=["method", "level", "response", "correct", "n_tokens"])
    out = solution_styles(df).set_index("method")
    assert out.loc["a", "check_kept"] == 50 and out.loc["a", "restatements"] == 0.5
    assert out.loc["a", "accuracy"] == 50 and out.loc["a", "mean_tokens"] == 15
    assert out.loc["b", "check_kept"] == 100 and out.loc["b", "restatements"] == 0


def test_reward_by_style_follows_the_o1_pruner_reward():
    import pandas as pd

    from o1pruner.reference_stats import aggregate
    from o1pruner.toy.styles import reward_by_style

    # One problem: a long checked sample (40 tokens, right) and a short estimate (10, wrong).
    samples = pd.DataFrame(
        {
            "problem_id": ["p", "p"],
            "level": [1, 1],
            "response": ["Estimate: 1+1=2. Wait, let me check. 1+1=2.", "Estimate: 1+1=3."],
            "n_tokens": [40, 10],
            "correct": [True, False],
        }
    )
    out = reward_by_style(samples, aggregate(samples), [0.0, 2.0], clip=(-2.0, 4.0), split_lambda=2.0)
    out = out.set_index("style")
    # L_ref = 25, A_ref = 0.5: check 25/40 - 1 + lam/2; estimate 25/10 - 1 - lam/2.
    assert out.loc["check", "reward_lambda0"] == pytest.approx(-0.375)
    assert out.loc["check", "reward_lambda2"] == pytest.approx(0.625)
    assert out.loc["estimate only", "reward_lambda0"] == pytest.approx(1.5)
    assert out.loc["estimate only", "reward_lambda2"] == pytest.approx(0.5)
    assert out.loc["check", "share"] == 50 and out.loc["estimate only", "accuracy"] == 0
    assert out.loc["check", "reward_if_right"] == pytest.approx(0.625)
    assert out.loc["estimate only", "reward_if_wrong"] == pytest.approx(0.5)
    assert pd.isna(out.loc["check", "reward_if_wrong"])
