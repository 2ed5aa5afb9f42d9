"""Reference log-probabilities, computed once before training.

Storing the per-sample mean-token log-probability of the frozen reference means no second
model sits in memory during training, and a training step costs about what an SFT step does.
"""

from __future__ import annotations

import torch

from ..console import Progress
from .data import PaddingCollator
from .loss import response_mean_logprobs


@torch.inference_mode()
def mean_logprobs(model, examples: list[dict], pad_token_id: int, batch_size: int = 32) -> list[float]:
    model.eval()
    device = next(model.parameters()).device
    collate = PaddingCollator(pad_token_id)
    # Longest first keeps padding low and shows an out-of-memory error at the first batch.
    order = sorted(range(len(examples)), key=lambda i: -len(examples[i]["input_ids"]))
    out = [0.0] * len(examples)
    for start in Progress(range(0, len(order), batch_size), desc="reference log-probs"):
        idx = order[start : start + batch_size]
        batch = collate([{k: examples[i][k] for k in ("input_ids", "response_mask")} for i in idx])
        batch = {k: v.to(device) for k, v in batch.items()}
        values = response_mean_logprobs(
            model, batch["input_ids"], batch["attention_mask"], batch["response_mask"]
        ).tolist()
        for i, v in zip(idx, values):
            out[i] = v
    return out
