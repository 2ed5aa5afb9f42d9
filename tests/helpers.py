"""Shared by the tests: a tiny random-init toy model, and the command lines they run."""

import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

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


def snakemake_cmd(workdir: Path, configfile: Path, *args: str) -> list[str]:
    """This workflow run by the test interpreter's Snakemake in `workdir` with `configfile`."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *args,
    ]


def presample_args(model: Path, problems: Path, settings: str, out: Path, *extra: str) -> list[str]:
    """Arguments of `o1pruner presample` (for `o1pruner.cli.main`)."""
    return [
        "presample",
        "--model",
        str(model),
        "--problems",
        str(problems),
        "--settings",
        settings,
        "--out",
        str(out),
        *extra,
    ]
