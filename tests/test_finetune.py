"""`o1pruner train` modes on a tiny model: full, freeze (last N layers) and LoRA (merged on save)."""

import pytest
import torch
from helpers import training_settings

from o1pruner.settings import TrainingSettings
from o1pruner.stages import finetune

SYSTEM = "Answer in \\boxed{}."


@pytest.fixture(scope="module")
def setup(training_data):
    return training_data(16)


def _settings(**extra) -> TrainingSettings:
    base = dict(learning_rate=1e-2, per_device_batch_size=8, global_batch_size=8, lr_scheduler="constant")
    return TrainingSettings.from_json(
        training_settings(**{**base, "warmup_ratio": 0.0, "cutoff_len": 256, "bf16": False, **extra})
    )


def _finetune(setup, settings: TrainingSettings, out) -> None:
    finetune(
        trainer="o1_pruner",
        model_path=str(setup / "model"),
        trainset_path=str(setup / "trainset.parquet"),
        problems_path=str(setup / "problems.jsonl"),
        settings=settings,
        seed=0,
        out=str(out),
        threads=1,
    )


def _weights(path):
    from transformers import AutoModelForCausalLM

    return dict(AutoModelForCausalLM.from_pretrained(path).named_parameters())


@pytest.mark.parametrize("mode", ["full", "freeze", "lora"])
def test_training_modes(setup, tmp_path, mode):
    extra = {"finetuning": mode}
    if mode == "freeze":
        extra["trainable_last_layers"] = 1
    out = tmp_path / mode
    _finetune(setup, _settings(**extra), out)
    assert not (out / "adapter_config.json").exists()
    base, tuned = _weights(setup / "model"), _weights(out)
    assert base.keys() == tuned.keys()
    changed = {n for n in base if not torch.equal(base[n], tuned[n])}
    assert changed
    if mode == "freeze":
        assert all(n.startswith("model.layers.1.") for n in changed), changed
    if mode == "lora":  # adapters sit on linear layers only: embeddings and norms are untouched
        assert not any("norm" in n or "embed" in n for n in changed), changed


def _delta(base: dict, path) -> torch.Tensor:
    tuned = _weights(path)
    return torch.cat([(tuned[n].float() - base[n].float()).flatten() for n in sorted(base)])


@pytest.fixture(scope="module")
def fp32_update(setup, tmp_path_factory):
    out = tmp_path_factory.mktemp("fp32") / "model"
    _finetune(setup, _precision_settings(bf16=False), out)
    return _delta(_weights(setup / "model"), out)


def _precision_settings(**extra):
    # 16 rows, 4 per step, 5 epochs: 20 optimiser steps at the paper's QwQ learning rate.
    return _settings(
        learning_rate=2e-6, per_device_batch_size=4, global_batch_size=4, epochs=5, dtype="bfloat16", **extra
    )


@pytest.mark.parametrize("pure_bf16,expect_same_update", [(False, True), (True, False)])
def test_bf16_training_keeps_fp32_master_weights(setup, tmp_path, fp32_update, pure_bf16, expect_same_update):
    """bf16 mixed precision moves the weights like fp32 training does (norm 0.8-1.25x, cosine
    >= 0.9). Negative case: pure bf16 training, where most of the 2e-6-sized updates round away,
    fails the same check."""
    out = tmp_path / "model"
    settings = _precision_settings(bf16=True, pure_bf16=pure_bf16)
    _finetune(setup, settings, out)
    update = _delta(_weights(setup / "model"), out)
    ratio = float(update.norm() / fp32_update.norm())
    cosine = float(torch.nn.functional.cosine_similarity(update, fp32_update, dim=0))
    same = 0.8 <= ratio <= 1.25 and cosine >= 0.9
    assert same == expect_same_update, (ratio, cosine)
    assert not torch.equal(update, fp32_update)  # bf16 compute did happen (autocast), not an fp32 rerun


def test_saving_in_bf16_warns_when_it_rounds_the_update_away(setup, tmp_path, caplog):
    import logging

    out = tmp_path / "model"
    with caplog.at_level(logging.INFO):
        _finetune(setup, _precision_settings(bf16=True, save_dtype="bfloat16"), out)
    assert "weight update: ||w - w0|| / ||w0||" in caplog.text
    assert "set training.save_dtype: float32 to keep it" in caplog.text
    assert next(iter(_weights(out).values())).dtype == torch.bfloat16


def test_a_global_batch_that_does_not_divide_is_an_error():
    from o1pruner.distributed import BatchLayoutError, gradient_accumulation

    assert gradient_accumulation(32, 1, 8) == 4 and gradient_accumulation(32, 1, 1) == 32
    with pytest.raises(BatchLayoutError, match="global_batch_size 32 is not a multiple of per_device_batch_size 3"):
        gradient_accumulation(32, 3, 1)


def test_a_trainer_registered_through_the_registry_alone_trains(setup, tmp_path):
    """A new trainer is one entry: its config class from the shared arguments and its training
    run (here the O1-Pruner loss with epsilon pinned to 0.05), then a method that names it; no
    dispatch code is edited."""
    import json

    from o1pruner import runs
    from o1pruner.train import registry
    from o1pruner.train.o1_pruner import O1PrunerConfig

    base = registry.trainer("o1_pruner")
    narrow = registry.TrainerEntry(
        "o1_pruner_narrow",
        ("length_harmonizing",),
        lambda common, settings: O1PrunerConfig(**common, epsilon=0.05, cutoff_len=settings.cutoff_len),
        base.train,
    )
    registry.register_trainer(narrow)
    try:
        assert "o1_pruner_narrow" in runs.TRAINERS  # a method may now name it
        runs.register(runs.Method("narrow", "O1-Pruner (eps 0.05)", trainer="o1_pruner_narrow",
                                  data="length_harmonizing"))  # fmt: skip
        out = tmp_path / "narrow"
        finetune(
            trainer="o1_pruner_narrow", model_path=str(setup / "model"), trainset_path=str(setup / "trainset.parquet"),
            problems_path=str(setup / "problems.jsonl"), settings=_settings(), seed=0, out=str(out), threads=1,
        )  # fmt: skip
        info = json.loads((out / "o1pruner_training.json").read_text())
        assert info["trainer"] == "o1_pruner_narrow" and info["weight_update"]["relative_update"] > 0
    finally:
        registry.TRAINERS.pop("o1_pruner_narrow")
        runs.TRAINER_DATA.pop("o1_pruner_narrow")
        runs.METHODS.pop("narrow", None)
