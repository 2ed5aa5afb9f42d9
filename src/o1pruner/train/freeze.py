"""Partial fine-tuning: only the last N decoder layers receive gradients (the paper's QwQ run)."""

from __future__ import annotations

import logging

from ..models import parameter_count

log = logging.getLogger(__name__)


def decoder_layers(model):
    base = getattr(model, model.base_model_prefix, model)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise ValueError(f"{type(model).__name__}: no decoder layer list at .{model.base_model_prefix}.layers")
    return layers


def train_only_last_layers(model, n: int) -> None:
    layers = decoder_layers(model)
    if not 1 <= n <= len(layers):
        raise ValueError(f"trainable_last_layers={n}, but the model has {len(layers)} decoder layers")
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in layers[len(layers) - n :]:
        for p in layer.parameters():
            p.requires_grad_(True)
    # Counted whole: under ZeRO-3 every process holds empty (partitioned) tensors.
    trainable = parameter_count(p for p in model.parameters() if p.requires_grad)
    total = parameter_count(model.parameters())
    log.info("training the last %d of %d layers: %.1f%% of parameters", n, len(layers), 100 * trainable / total)
