"""The per-GPU memory estimate: parameter counts from config.json match real models, and
sharding and checkpointing move the components they should."""

import json

import pytest
from helpers import tiny_toy_model

from o1pruner.train.memory import MARCO_O1_7B, QWQ_32B, Architecture, training_memory


def test_parameter_count_matches_a_real_model(tmp_path):
    from transformers import AutoModelForCausalLM

    model_dir, _, _ = tiny_toy_model(tmp_path, n_problems=2)
    arch = Architecture.from_config(json.loads((model_dir / "config.json").read_text()))
    assert arch.params() == AutoModelForCausalLM.from_pretrained(model_dir).num_parameters()


def test_paper_models_sizes():
    assert MARCO_O1_7B.params() == pytest.approx(7.62e9, rel=0.01)  # Qwen2-7B
    assert QWQ_32B.params() == pytest.approx(32.76e9, rel=0.01)  # Qwen2.5-32B


def test_sharding_and_checkpointing():
    def total(**kw):
        base = dict(seq_len=3072, micro_batch=1, gpus=8, sharding="zero3", gradient_checkpointing=True)
        return training_memory(MARCO_O1_7B, **{**base, **kw})

    z3, z2, ddp = total(), total(sharding="zero2"), total(sharding="ddp", precision="bf16")
    assert z3["optimizer"] == z2["optimizer"] == ddp["optimizer"] / 8
    assert z3["weights"] == z2["weights"] / 8 == ddp["weights"] / 8
    assert total(gradient_checkpointing=False)["activations"] > 10 * z3["activations"]
    # 16 bytes per trainable parameter in all, split 8 ways under ZeRO-3
    per_param = (z3["weights"] + z3["gradients"] + z3["optimizer"]) * 1024**3 * 8 / MARCO_O1_7B.params()
    assert per_param == pytest.approx(16)
    frozen = training_memory(QWQ_32B, seq_len=4096, micro_batch=1, gpus=8, sharding="zero3",
                             gradient_checkpointing=True, trainable_layers=48)  # fmt: skip
    assert frozen["optimizer"] == pytest.approx(12 * 48 * QWQ_32B.layer_params() / 8 / 1024**3)
    with pytest.raises(ValueError, match="unknown sharding"):
        total(sharding="zero4")


def test_precision_moves_bytes_between_components():
    """Autocast over fp32 weights (DDP's default) holds 4 + 4 + 8 bytes per parameter plus a
    2-byte bf16 copy of the weights; ZeRO's bf16 2 + 2 + 12; pure bf16 2 + 2 + 4."""
    gb = 1024**3 / MARCO_O1_7B.params()
    common = dict(seq_len=1024, micro_batch=1, gpus=1, gradient_checkpointing=True)
    autocast = training_memory(MARCO_O1_7B, sharding="ddp", **common)
    assert (autocast["weights"] * gb, autocast["gradients"] * gb, autocast["optimizer"] * gb) == pytest.approx(
        (6, 4, 8)
    )
    bf16 = training_memory(MARCO_O1_7B, sharding="zero3", **common)
    assert (bf16["weights"] * gb, bf16["gradients"] * gb, bf16["optimizer"] * gb) == pytest.approx((2, 2, 12))
    pure = training_memory(MARCO_O1_7B, sharding="ddp", precision="pure_bf16", **common)
    assert (pure["weights"] * gb, pure["gradients"] * gb, pure["optimizer"] * gb) == pytest.approx((2, 2, 4))


def test_zero_counts_deepspeeds_own_buffers():
    """Measured at Qwen2-0.5B's size under ZeRO-3 in 2 processes, the model state alone (3.93 GB)
    was two thirds of the training peak (5.92 GB; benchmarks/real_dimensions.py): DeepSpeed adds its
    gradient bucket (allocated whole), the step's fp32 gradient copy and, under ZeRO-3, the
    gathered parameters."""
    common = dict(seq_len=3072, micro_batch=1, gpus=8, gradient_checkpointing=True)
    z3 = training_memory(MARCO_O1_7B, sharding="zero3", **common)
    z2 = training_memory(MARCO_O1_7B, sharding="zero2", **common)
    ddp = training_memory(MARCO_O1_7B, sharding="ddp", **common)
    bucket, fp32_grads = 2 * 5e8, 4 * min(MARCO_O1_7B.params() / 8, 1e9)
    gathered = 2 * (MARCO_O1_7B.vocab_size * MARCO_O1_7B.hidden_size + 5e7)
    assert z2["buffers"] * 1024**3 == pytest.approx(bucket + fp32_grads)
    assert z3["buffers"] * 1024**3 == pytest.approx(bucket + fp32_grads + gathered)
    assert ddp["buffers"] == 0
    # The optimiser steps at most 1e9 master weights at a time: QwQ's 22.6B trainable over 8 GPUs.
    qwq = training_memory(QWQ_32B, sharding="zero3", trainable_layers=48, **common)
    assert qwq["buffers"] * 1024**3 == pytest.approx(
        2 * 5e8 + 4 * 1e9 + 2 * (QWQ_32B.vocab_size * QWQ_32B.hidden_size + 5e7)
    )
    assert z3["total"] == pytest.approx(sum(v for k, v in z3.items() if k != "total"))
