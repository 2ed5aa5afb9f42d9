"""A toy model and prompts for the benchmarks (trained reference if given, else random init)."""

from __future__ import annotations

import random

from o1pruner.prompt import render_prompt
from o1pruner.toy.model import make_toy_model
from o1pruner.toy.tasks import Level, generate_toy_splits, write_solution
from o1pruner.toy.tokenizer import train_tokenizer

LEVELS = [Level(2, 9), Level(3, 9), Level(4, 9)]
SYSTEM = "Answer in \\boxed{}."


def toy_setup(model_path: str | None, n_problems: int, hidden: int = 128, layers: int = 4):
    train, test = generate_toy_splits(0, 400, n_problems, LEVELS)
    if model_path:
        from o1pruner.models import load_model, load_tokenizer

        tok, model = load_tokenizer(model_path), load_model(model_path, device="cpu")
    else:
        rng = random.Random(0)
        texts = [r["problem"] for r in train] + [write_solution(rng, r["worked"], True, 0.7) for r in train]
        tok = train_tokenizer(texts + [f"system\n{SYSTEM}\nuser\nassistant\n"], 1024)
        model = make_toy_model(tok, hidden, layers, 4, 2, hidden * 3, 512, seed=0)
    prompts = [render_prompt(tok, r["problem"], SYSTEM) for r in test]
    return model, tok, prompts, train
