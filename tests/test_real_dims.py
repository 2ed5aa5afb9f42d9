"""The real-dimension models the benchmarks and the GPU check measure: the real tokenizer's ids
survive the save (transformers 5 reloads a tokenizer beside a qwen2 config with Qwen2's own
pre-tokenizer), the shape is the one named, and the parameter count is what `o1pruner memory`
counts."""

import json

import pytest
from helpers import REPO

from o1pruner.io import InputError
from o1pruner.real_dims import DIMENSIONS, build_real_dim_model
from o1pruner.train.memory import Architecture

TOKENIZER = REPO.parent / "shared" / "tokenizers" / "deepseek-r1-distill-qwen-1.5b"
TEXT = "Okay, so I need to find 3^{2} + \\sqrt{16}.\n<think>\nWait, 9 + 4 = 13.\n</think>\n\\boxed{13}"


@pytest.mark.skipif(not TOKENIZER.exists(), reason="no ../shared/tokenizers in this checkout")
def test_a_real_dimension_model_keeps_the_real_tokenizer_and_shape(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = build_real_dim_model(TOKENIZER, tmp_path / "model", "miniature")
    original, saved = AutoTokenizer.from_pretrained(TOKENIZER), AutoTokenizer.from_pretrained(out)
    assert saved(TEXT)["input_ids"] == original(TEXT)["input_ids"]
    messages = [{"role": "user", "content": "What is 3 plus 4?"}]
    assert saved.apply_chat_template(messages, tokenize=False) == original.apply_chat_template(messages, tokenize=False)
    config = json.loads((out / "config.json").read_text())
    assert {k: config[k] for k in DIMENSIONS["miniature"]} == DIMENSIONS["miniature"]
    assert config["vocab_size"] == 151936
    model = AutoModelForCausalLM.from_pretrained(out)
    assert Architecture.from_config(config).params() == model.num_parameters()
    with pytest.raises(InputError, match="unknown model shape 'qwen9'"):
        build_real_dim_model(TOKENIZER, tmp_path / "other", "qwen9")


def test_the_named_shapes_have_their_released_parameter_counts():
    counts = {name: Architecture(dims["num_hidden_layers"], dims["hidden_size"], dims["intermediate_size"],
                                 dims["num_attention_heads"], dims["num_key_value_heads"], 151936,
                                 dims["tie_word_embeddings"]).params()
              for name, dims in DIMENSIONS.items()}  # fmt: skip
    assert counts["qwen2-0.5b"] == pytest.approx(494e6, rel=0.01)  # Qwen2-0.5B: 494M
    assert counts["r1-distill-qwen-1.5b"] == pytest.approx(1.777e9, rel=0.01)  # R1-Distill-Qwen-1.5B: 1.78B
