"""`o1pruner train` modes on a tiny model: full, freeze (last N layers) and LoRA (merged on save)."""

import json
import random

import pandas as pd
import pytest
import torch

from o1pruner.stages import finetune

SYSTEM = "Answer in \\boxed{}."


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from o1pruner.toy.model import make_toy_model
    from o1pruner.toy.tasks import Level, generate_toy_splits, write_solution
    from o1pruner.toy.tokenizer import train_tokenizer
    from o1pruner.train.data import encode_examples
    from o1pruner.train.logprobs import mean_logprobs

    root = tmp_path_factory.mktemp("ft")
    train, _ = generate_toy_splits(0, 60, 4, [Level(2, 9)])
    rng = random.Random(0)
    texts = [r["problem"] for r in train] + [write_solution(rng, r["worked"], True, 0.7) for r in train]
    tok = train_tokenizer(texts + [f"system\n{SYSTEM}\nuser\nassistant\n"], 600)
    model = make_toy_model(tok, 32, 2, 2, 1, 64, 256, seed=0)
    model.save_pretrained(root / "model")
    tok.save_pretrained(root / "model")
    rows = train[:16]
    (root / "problems.jsonl").write_text(
        "".join(json.dumps({k: r[k] for k in ("id", "problem", "answer")}) + "\n" for r in rows)
    )
    ids = [
        tok(
            write_solution(rng, r["worked"], rng.random() < 0.5, 0.7) + tok.eos_token, add_special_tokens=False
        ).input_ids
        for r in rows
    ]
    ref = mean_logprobs(model, encode_examples(tok, [r["problem"] for r in rows], ids, SYSTEM, 256), tok.pad_token_id)
    df = pd.DataFrame(
        {
            "problem_id": [r["id"] for r in rows],
            "sample_idx": 0,
            "response_ids": ids,
            "advantage": [rng.gauss(0, 1) for _ in rows],
            "ref_logp": ref,
        }
    )
    df.to_parquet(root / "trainset.parquet")
    return root


def _settings(**extra):
    return {
        "learning_rate": 1e-2,
        "epochs": 1,
        "per_device_batch_size": 8,
        "gradient_accumulation_steps": 1,
        "lr_scheduler": "constant",
        "warmup_ratio": 0.0,
        "weight_decay": 0.0,
        "epsilon": 0.2,
        "cutoff_len": 256,
        "bf16": False,
        "dtype": "float32",
        "system_prompt": SYSTEM,
        **extra,
    }


def _weights(path):
    from transformers import AutoModelForCausalLM

    return dict(AutoModelForCausalLM.from_pretrained(path).named_parameters())


@pytest.mark.parametrize("mode", ["full", "freeze", "lora"])
def test_training_modes(setup, tmp_path, mode):
    extra = {"finetuning": mode}
    if mode == "freeze":
        extra["trainable_last_layers"] = 1
    out = tmp_path / mode
    finetune(
        "o1_pruner",
        str(setup / "model"),
        str(setup / "trainset.parquet"),
        str(setup / "problems.jsonl"),
        _settings(**extra),
        0,
        str(out),
        1,
    )
    assert not (out / "adapter_config.json").exists()
    base, tuned = _weights(setup / "model"), _weights(out)
    assert base.keys() == tuned.keys()
    changed = {n for n in base if not torch.equal(base[n], tuned[n])}
    assert changed
    if mode == "freeze":
        assert all(n.startswith("model.layers.1.") for n in changed), changed
    if mode == "lora":  # adapters sit on linear layers only: embeddings and norms are untouched
        assert not any("norm" in n or "embed" in n for n in changed), changed
