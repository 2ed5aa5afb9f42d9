import random
import re

from o1pruner.toy.tasks import OVERTHINKING_MARKER, Level, generate_toy_splits, write_solution

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
