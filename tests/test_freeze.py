import pytest

from o1pruner.train.freeze import train_only_last_layers


def test_only_the_last_layers_train():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    model = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=64,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=4,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    train_only_last_layers(model, 3)
    layers = model.model.layers
    assert not any(p.requires_grad for p in layers[0].parameters())
    assert all(p.requires_grad for layer in layers[1:] for p in layer.parameters())
    assert not model.model.embed_tokens.weight.requires_grad
    with pytest.raises(ValueError, match="4 decoder layers"):
        train_only_last_layers(model, 5)
