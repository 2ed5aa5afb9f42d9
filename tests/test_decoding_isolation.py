"""Decoding settings come from the workflow config only: a checkpoint whose
generation_config.json carries its own decoding settings gives the same samples and greedy
outputs as a clean copy."""

import json
import shutil

import pandas as pd
from helpers import evaluation_settings, presample_args, presample_settings, tiny_toy_model

from o1pruner.cli import main

LEAKY = {"repetition_penalty": 1.3, "top_k": 3, "temperature": 0.1, "min_p": 0.2, "do_sample": True}


def _settings(stage: str, **extra) -> str:
    common = dict(max_new_tokens=24, batch_size=12, system_prompt="Answer in \\boxed{}.")
    if stage == "presample":
        return presample_settings(**common, k=3, temperature=1.0, top_p=1.0, seed=0, **extra)
    return evaluation_settings("reference", **{**common, **extra})


def _leaky_copy(model_dir, tmp_path):
    leaky = tmp_path / "leaky"
    shutil.copytree(model_dir, leaky)
    config = (
        json.loads((leaky / "generation_config.json").read_text())
        if (leaky / "generation_config.json").exists()
        else {}
    )
    (leaky / "generation_config.json").write_text(json.dumps({**config, **LEAKY}))
    return leaky


def test_checkpoint_generation_config_does_not_change_samples_or_greedy_outputs(tmp_path):
    model_dir, problems, _ = tiny_toy_model(tmp_path, n_problems=8)
    leaky = _leaky_copy(model_dir, tmp_path)
    for name, model in (("clean", model_dir), ("leaky", leaky)):
        assert main(presample_args(model, problems, _settings("presample"), tmp_path / f"{name}-samples.parquet")) == 0
        args = ["evaluate", "--model", str(model), "--problems", str(problems), "--settings"]
        args += [
            _settings("evaluate", batch_size=8),
            "--run",
            "reference",
            "--out",
            str(tmp_path / f"{name}-eval.parquet"),
        ]
        assert main([*args, "--metrics", str(tmp_path / f"{name}-eval.json")]) == 0
    for kind in ("samples", "eval"):
        clean = pd.read_parquet(tmp_path / f"clean-{kind}.parquet")
        other = pd.read_parquet(tmp_path / f"leaky-{kind}.parquet")
        assert clean["response"].tolist() == other["response"].tolist(), kind


def test_the_leaky_settings_would_change_outputs_without_isolation(tmp_path):
    """Negative case: sampling with only temperature, top-p and top-k set (what the backend
    passed before), transformers' generate fills the rest (min-p, repetition penalty) from the
    checkpoint's config and decodes differently, so the test above can fail."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir, problems, _ = tiny_toy_model(tmp_path, n_problems=8)
    leaky = _leaky_copy(model_dir, tmp_path)
    tok = AutoTokenizer.from_pretrained(model_dir)
    prompts = [json.loads(line)["problem"] for line in problems.read_text().splitlines()]
    enc = tok(prompts, return_tensors="pt", padding=True)
    outs = []
    for path in (model_dir, leaky):
        model = AutoModelForCausalLM.from_pretrained(path)
        torch.manual_seed(0)
        kwargs = dict(do_sample=True, temperature=1.0, top_p=1.0, top_k=0, num_return_sequences=3)
        outs.append(model.generate(**enc, max_new_tokens=24, pad_token_id=tok.pad_token_id, **kwargs).tolist())
    assert outs[0] != outs[1]
