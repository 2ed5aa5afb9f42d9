"""What training did to the weights, and whether saving in a low-precision dtype keeps it.

At the paper's learning rates (2e-7 to 2e-6) an AdamW step moves a weight by about the learning
rate, while bfloat16 resolves about 2^-8 = 0.4% of a weight's magnitude: a bf16 checkpoint can
round the whole fine-tuning away. Training keeps fp32 master weights; this module measures the
update against the reference's own safetensors (tensor by tensor, so no second model is held)
and warns before a save would lose it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SAVE_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def update_sizes(reference_path: str, model: torch.nn.Module, save_dtype: str = "bfloat16") -> dict:
    """`relative_update` = ||w - w0|| / ||w0|| over all weights the reference file holds, and
    `rounding_error` = ||(r(w) - r(w0)) - (w - w0)|| / ||w - w0||, r = rounding to `save_dtype`:
    how far the update a saved checkpoint carries is from the trained one (0 = exact; above 1
    the saved update is mostly rounding noise: each weight moved by zero or one whole step of
    the dtype's grid instead of by its own update)."""
    from safetensors import safe_open

    dtype = SAVE_DTYPES[save_dtype]
    state = {name: p for name, p in model.state_dict().items()}
    update_sq = ref_sq = error_sq = 0.0
    for file in sorted(Path(reference_path).glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as weights:
            for name in weights.keys():
                if name not in state:
                    continue
                w0 = weights.get_tensor(name).float()
                w = state[name].detach().float().cpu()
                d = w - w0
                kept = w.to(dtype).float() - w0.to(dtype).float()
                update_sq += float(d.pow(2).sum())
                ref_sq += float(w0.pow(2).sum())
                error_sq += float((kept - d).pow(2).sum())
    if update_sq == 0:
        return {"relative_update": 0.0, "rounding_error": 0.0}
    return {"relative_update": (update_sq / max(ref_sq, 1e-30)) ** 0.5, "rounding_error": (error_sq / update_sq) ** 0.5}


def check_update_survives(reference_path: str, model: torch.nn.Module, save_dtype: str) -> dict | None:
    """Log the update's size; warn when saving in `save_dtype` changes it by more than half."""
    if not any(Path(reference_path).glob("*.safetensors")):
        return None  # a hub id: the reference weights are not at hand to compare
    sizes = update_sizes(reference_path, model, "bfloat16" if save_dtype == "float32" else save_dtype)
    log.info(
        "weight update: ||w - w0|| / ||w0|| = %.3g; saved in %s it would be off by %.0f%% of itself",
        sizes["relative_update"],
        "bfloat16" if save_dtype == "float32" else save_dtype,
        100 * sizes["rounding_error"],
    )
    if save_dtype != "float32" and sizes["rounding_error"] > 0.5:
        log.warning(
            "saving in %s rounds the fine-tuning update away: the saved update is off by %.0f%% of itself "
            "(relative update size %.2g against the dtype's resolution of ~%.1g); set training.save_dtype: "
            "float32 to keep it",
            save_dtype,
            100 * sizes["rounding_error"],
            sizes["relative_update"],
            torch.finfo(SAVE_DTYPES[save_dtype]).eps,
        )
    return sizes


def cast_for_saving(model: torch.nn.Module, save_dtype: str) -> torch.nn.Module:
    dtype = SAVE_DTYPES[save_dtype]
    if next(model.parameters()).dtype != dtype:
        model.to(dtype)
    return model
