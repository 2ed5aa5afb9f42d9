"""A tiny random-init toy model with its tokenizer and problems, shared by the tests."""

import json
import random
from pathlib import Path

SYSTEM = "Answer in \\boxed{}."


def tiny_toy_model(out: Path, n_problems: int, hidden: int = 32, layers: int = 1, n_train: int = 100):
    """Save a toy tokenizer+model in `out/model`; return (model_dir, problems.jsonl, train rows)."""
    from o1pruner.toy.model import make_toy_model
    from o1pruner.toy.tasks import Level, generate_toy_splits, write_solution
    from o1pruner.toy.tokenizer import train_tokenizer

    train, test = generate_toy_splits(0, n_train, n_problems, [Level(2, 9)])
    rng = random.Random(0)
    texts = [r["problem"] for r in train] + [write_solution(rng, r["worked"], True, 0.7) for r in train]
    tok = train_tokenizer(texts + [f"system\n{SYSTEM}\nuser\nassistant\n"], 600)
    model_dir = out / "model"
    make_toy_model(tok, hidden, layers, 2, 1, 2 * hidden, 256, seed=0).save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    problems = out / "problems.jsonl"
    problems.write_text("".join(json.dumps({k: r[k] for k in ("id", "problem", "answer")}) + "\n" for r in test))
    return model_dir, problems, train
