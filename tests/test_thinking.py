"""Thinking and answer tokens apart, and budget forcing (greedy, thinking capped at B tokens)."""

import random

import pytest
from helpers import SYSTEM

from o1pruner.config.checks import check_thinking
from o1pruner.config.load import ConfigError
from o1pruner.io import InputError
from o1pruner.sampling.budget import budget_forced
from o1pruner.sampling.decoding import Generation
from o1pruner.sampling.thinking import split_thinking, thinking_end_id
from o1pruner.toy.tasks import THINK_CLOSE, Level, generate_toy_splits, with_thinking_block, write_solution

END = 7


def test_thinking_is_up_to_and_including_the_first_closing_marker():
    s = split_thinking([1, 2, END, 3, END, 4], END)
    assert (s.thinking_tokens, s.answer_tokens, s.closed) == (3, 3, True)
    s = split_thinking([1, 2, 3], END)
    assert (s.thinking_tokens, s.answer_tokens, s.closed) == (3, 0, False)
    s = split_thinking([1, END], END)
    assert (s.thinking_tokens, s.answer_tokens, s.closed) == (2, 0, True)


def _toy_tokenizer(tmp_path, thinking: bool):
    from transformers import AutoTokenizer

    from o1pruner.toy.tokenizer import train_tokenizer

    train, _ = generate_toy_splits(0, 60, 1, [Level(2, 9)])
    rng = random.Random(0)
    solutions = [with_thinking_block(write_solution(rng, r["worked"], True, 0.7), THINK_CLOSE) for r in train]
    template_words = f"system\n{SYSTEM}\nuser\nassistant\n"
    tok = train_tokenizer([r["problem"] for r in train] + solutions + [template_words], 500, thinking)
    tok.save_pretrained(tmp_path)
    return tok, AutoTokenizer.from_pretrained(tmp_path), solutions


def test_the_toy_thinking_markers_are_single_tokens_that_survive_save_and_reload(tmp_path):
    """transformers 5 rebuilds a tokenizer beside a qwen2 config as Qwen2's own: the ids (and the
    added thinking markers) must be the same after reloading."""
    trained, reloaded, solutions = _toy_tokenizer(tmp_path, thinking=True)
    for text in solutions[:20]:
        assert reloaded.encode(text, add_special_tokens=False) == trained.encode(text, add_special_tokens=False)
    end_id = thinking_end_id(reloaded, THINK_CLOSE)
    ids = reloaded.encode(solutions[0], add_special_tokens=False)
    assert ids.count(end_id) == 1
    # The marker decodes with the response (not special), as in DeepSeek-R1-Distill-Qwen.
    assert THINK_CLOSE in reloaded.decode(ids, skip_special_tokens=True)
    messages = [{"role": "user", "content": "1+1?"}]
    prompt = reloaded.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n")


def test_a_marker_the_tokenizer_cannot_encode_as_one_token_is_refused(tmp_path):
    _, reloaded, _ = _toy_tokenizer(tmp_path, thinking=False)
    with pytest.raises(InputError, match=r"config key prompt.thinking_end: '</think>' is not one token"):
        thinking_end_id(reloaded, THINK_CLOSE)
    # The same check before any job, from the model folder's tokenizer.json (a real model's path).
    config = {"model": {"toy_reference": False, "path": str(tmp_path)}, "prompt": {"thinking_end": THINK_CLOSE}}
    with pytest.raises(ConfigError, match=r"prompt.thinking_end: '</think>' is not one token of .*'s tokenizer"):
        check_thinking(config)
    _toy_tokenizer(tmp_path, thinking=True)
    check_thinking(config)


class ScriptedGenerator:
    """Returns the given generations per call and records the prompts (our side of the contract:
    which follow-up prompt each case gets; the real model runs in the next test and the workflow)."""

    def __init__(self, *calls):
        self.calls, self.prompts = list(calls), []

    def __call__(self, prompts, **kwargs):
        self.prompts.append((list(prompts), kwargs))
        return [[g] for g in self.calls.pop(0)]


def test_budget_forcing_closes_only_the_thinking_still_open_at_the_budget():
    thinking = [
        Generation([1, 2, 3, 4], "abcd", True),  # still thinking at the budget
        Generation([1, END], "a", False),  # closed its thinking itself (the engine left the marker out of the text)
        Generation([1, 0], "a", False),  # ended (end of turn) without closing it
    ]
    answers = [Generation([5, 6], " 42", False), Generation([5, 0], " 7", False)]
    gen = ScriptedGenerator(thinking, answers)
    out = budget_forced(
        gen, ["P0", "P1", "P2"], budget=4, end_marker="</think>", end_id=END, answer_cue="\nA:", answer_max_tokens=8
    )
    (first, first_kw), (second, second_kw) = gen.prompts
    assert first == ["P0", "P1", "P2"] and first_kw["max_new_tokens"] == 4 and first_kw["stop_token_ids"] == [END]
    assert second == ["P0abcd</think>\nA:", "P1a</think>"] and second_kw["max_new_tokens"] == 8
    forced, closed, ended = (g[0] for g in out)
    assert (forced.thinking_tokens, forced.answer_tokens, forced.forced, forced.closed) == (4, 2, True, True)
    assert forced.token_ids == [1, 2, 3, 4, 5, 6] and forced.text == "abcd</think>\nA: 42"
    assert (closed.thinking_tokens, closed.answer_tokens, closed.forced, closed.closed) == (2, 2, False, True)
    assert closed.text == "a</think> 7"
    assert (ended.thinking_tokens, ended.answer_tokens, ended.forced, ended.closed) == (2, 0, False, False)


def test_budget_forcing_on_a_real_model_spends_at_most_the_budget_on_thinking(tmp_path):
    from o1pruner.models import load_model, load_tokenizer
    from o1pruner.prompt import render_prompt
    from o1pruner.sampling.backends import Generator
    from o1pruner.toy.model import make_toy_model

    trained, _, _ = _toy_tokenizer(tmp_path, thinking=True)
    make_toy_model(trained, 32, 1, 2, 1, 64, 256, seed=0).save_pretrained(tmp_path)
    tok, model = load_tokenizer(str(tmp_path)), load_model(str(tmp_path), "float32")
    end_id = thinking_end_id(tok, THINK_CLOSE)
    prompts = [render_prompt(tok, f"Ann has {i} pens. How many pens now?", SYSTEM) for i in range(6)]
    out = budget_forced(
        Generator("transformers", model, tok), prompts, budget=5, end_marker=THINK_CLOSE, end_id=end_id,
        answer_cue="\n",
        answer_max_tokens=3, do_sample=False, temperature=1.0, top_p=1.0, batch_size=4, seed=0,
    )  # fmt: skip
    for (g,) in out:
        assert g.thinking_tokens <= 5 and g.answer_tokens <= 3
        assert len(g.token_ids) == g.thinking_tokens + g.answer_tokens
        if g.forced:
            assert g.thinking_tokens == 5 and f"{THINK_CLOSE}\n" in g.text
    assert any(g.forced for (g,) in out)  # a random-init model does not close its thinking in 5 tokens


def test_every_budget_of_a_job_is_decoded_with_one_model_load(tmp_path, monkeypatch):
    """`evaluate` with a greedy decoding, then one under budgets [3, 6] (as in a run's `evaluate`
    job): the model loads once and each decoding, each budget, writes its own file pair, in order,
    recording its own settings."""
    import json

    import pandas as pd
    from helpers import evaluation_settings

    from o1pruner import evaluation
    from o1pruner.sampling import backends
    from o1pruner.settings import EvaluationSettings
    from o1pruner.toy.model import make_toy_model

    trained, _, _ = _toy_tokenizer(tmp_path / "model", thinking=True)
    make_toy_model(trained, 32, 1, 2, 1, 64, 256, seed=0).save_pretrained(tmp_path / "model")
    problems = tmp_path / "problems.jsonl"
    problems.write_text(
        "".join(
            json.dumps({"id": f"p{i}", "problem": f"Ann has {i} pens. How many?", "answer": str(i)}) + "\n"
            for i in range(4)
        )
    )
    forcing = {"budgets": [3, 6], "answer_cue": "\n", "answer_max_tokens": 2}
    greedy, forced = (
        EvaluationSettings.from_json(json.loads(evaluation_settings(thinking_end=THINK_CLOSE, max_new_tokens=12, **b)))
        for b in ({}, {"budget_forcing": forcing})
    )
    loads = []
    real_load = backends.load_generator
    monkeypatch.setattr(backends, "load_generator", lambda *a: loads.append(a) or real_load(*a))
    out = [tmp_path / f"{name}.parquet" for name in ("greedy", "b3", "b6")]
    metrics = [p.with_suffix(".json") for p in out]
    common = dict(model_path=str(tmp_path / "model"), decodings=[(str(problems), greedy), (str(problems), forced)],
                  run="reference", threads=1)  # fmt: skip
    evaluation.evaluate(**common, out=[str(p) for p in out], metrics_out=[str(p) for p in metrics])
    assert len(loads) == 1
    first = json.loads(metrics[0].read_text())
    assert "budget_forcing" not in first and first["settings"].get("budget_forcing") is None
    assert pd.read_parquet(out[0])["thinking_tokens"].max() > 6  # unforced: the budgets below do cut it
    for budget, samples_path, metrics_path in zip((3, 6), out[1:], metrics[1:]):
        recorded = json.loads(metrics_path.read_text())
        assert recorded["budget_forcing"]["budget"] == budget
        assert recorded["settings"]["budget_forcing"] == {"budget": budget, "answer_cue": "\n", "answer_max_tokens": 2}
        assert (pd.read_parquet(samples_path)["thinking_tokens"] <= budget).all()
        # a random model rarely closes its thinking in 3 or 6 tokens: the budget does, and what it
        # says after the forced close is at most answer_max_tokens
        assert recorded["budget_forcing"]["forced_rate"] > 0
        assert 0 <= recorded["budget_forcing"]["mean_answer_tokens_forced"] <= 2
    with pytest.raises(InputError, match="one path per decoding \\(3\\), got 1 and 1"):
        evaluation.evaluate(**common, out=[str(out[0])], metrics_out=[str(metrics[0])])
