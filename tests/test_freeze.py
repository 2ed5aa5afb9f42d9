import pytest
from helpers import tiny_qwen2

from o1pruner.train.freeze import train_only_last_layers


def test_only_the_last_layers_train():
    model = tiny_qwen2()
    train_only_last_layers(model, 3)
    layers = model.model.layers
    assert not any(p.requires_grad for p in layers[0].parameters())
    assert all(p.requires_grad for layer in layers[1:] for p in layer.parameters())
    assert not model.model.embed_tokens.weight.requires_grad
    with pytest.raises(ValueError, match="4 decoder layers"):
        train_only_last_layers(model, 5)


def test_freezing_a_model_partitioned_by_zero3(caplog):
    """Under ZeRO-3 every process holds empty tensors (the size is in `ds_numel`): counting
    `numel()` gave 0 of 0 parameters and a ZeroDivisionError, the crash that the QwQ config's
    rehearsal (freeze + zero3) found."""
    import logging

    import torch

    model = tiny_qwen2(tie_word_embeddings=True)
    for p in model.parameters():  # what DeepSpeed's zero.Init leaves in each process
        p.ds_numel = p.numel()
        p.data = torch.empty(0)
    with caplog.at_level(logging.INFO, logger="o1pruner.train.freeze"):
        train_only_last_layers(model, 2)
    share = 100 * sum(p.ds_numel for layer in model.model.layers[2:] for p in layer.parameters())
    share /= sum(p.ds_numel for p in model.parameters())
    assert f"training the last 2 of 4 layers: {share:.1f}% of parameters" in caplog.text
