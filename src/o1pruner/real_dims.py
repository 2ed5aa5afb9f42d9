"""A randomly initialised model at a real model's dimensions, with that model's real tokenizer:
what the memory and throughput benchmarks and the GPU check measure, where no weights can be
downloaded. Its outputs are noise; its memory and speed are the real architecture's.

The tokenizer files are copied byte for byte from the tokenizer folder (as for the rehearsal
model), so token ids are the real model's; the architecture is the folder's `config.json` with
the named model's sizes put in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .io import InputError, atomic_path
from .rehearsal_model import TOKENIZER_FILES, family_config

# Sizes of released checkpoints (their config.json); the vocabulary is the tokenizer folder's.
DIMENSIONS = {
    # Qwen2-0.5B / Qwen2.5-0.5B: the smallest Qwen2 shape, the CPU benchmarks' size
    "qwen2-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                       num_key_value_heads=2, tie_word_embeddings=True),
    # DeepSeek-R1-Distill-Qwen-1.5B (Qwen2.5-Math-1.5B's shape): the GPU check's size
    "r1-distill-qwen-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                                 num_attention_heads=12, num_key_value_heads=2, tie_word_embeddings=False),
    # the real vocabulary on a miniature body: the GPU check's CPU run, and tests
    "miniature": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                      num_key_value_heads=1, tie_word_embeddings=True),
}  # fmt: skip


def real_dim_model(tokenizer_dir: str | Path, name: str, dtype: str = "bfloat16", max_positions: int = 4096,
                   seed: int = 0, device: str = "cpu"):  # fmt: skip
    """The `name`d shape (a key of DIMENSIONS), randomly initialised in `dtype` on `device`, with
    the config of `tokenizer_dir` (a model folder without weights) otherwise."""
    import torch
    from transformers import AutoModelForCausalLM

    if name not in DIMENSIONS:
        raise InputError(f"unknown model shape {name!r} (known: {', '.join(DIMENSIONS)})")
    config = family_config(Path(tokenizer_dir), "", **DIMENSIONS[name], max_position_embeddings=max_positions,
                           dtype=dtype)  # fmt: skip
    torch.manual_seed(seed)
    with torch.device(device):  # initialised where it runs: a 1.5B init on the CPU takes minutes
        return AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))


def build_real_dim_model(tokenizer_dir: str | Path, out: str | Path, name: str, dtype: str = "bfloat16",
                         max_positions: int = 4096, seed: int = 0) -> Path:  # fmt: skip
    """`real_dim_model` written to `out` (atomically) with the tokenizer files beside it."""
    source = Path(tokenizer_dir)
    model = real_dim_model(source, name, dtype, max_positions, seed)
    with atomic_path(out, is_dir=True) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        for file in TOKENIZER_FILES:
            if (source / file).is_file():
                shutil.copy2(source / file, Path(tmp) / file)
    return Path(out)
