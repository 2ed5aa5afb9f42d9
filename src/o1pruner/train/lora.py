"""LoRA fine-tuning (peft): adapters on every linear layer, merged back before saving so that
every later stage loads an ordinary model folder."""

from __future__ import annotations

import logging

from ..models import parameter_count

log = logging.getLogger(__name__)


def add_lora(model, r: int, alpha: int, dropout: float):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear", task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    trainable = parameter_count(p for p in model.parameters() if p.requires_grad)
    total = parameter_count(model.parameters())
    log.info("LoRA r=%d alpha=%d: %.2f%% of parameters trainable", r, alpha, 100 * trainable / total)
    return model


def merged(model):
    """The base model with the adapters folded in (a no-op for a model without adapters)."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
