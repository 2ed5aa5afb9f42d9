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


class UpdateMeter:
    """Accumulates, tensor by tensor, `relative_update` = ||w - w0|| / ||w0|| over all weights
    the reference's safetensors hold, and `rounding_error` = ||(r(w) - r(w0)) - (w - w0)|| /
    ||w - w0||, r = rounding to `save_dtype`: how far the update a saved checkpoint carries is
    from the trained one (0 = exact; above 1 the saved update is mostly rounding noise: each
    weight moved by zero or one whole step of the dtype's grid instead of by its own update).
    Tensor by tensor, so that neither a second model nor a whole gathered one is held."""

    def __init__(self, reference_path: str, save_dtype: str = "bfloat16"):
        from safetensors import safe_open

        self.dtype = SAVE_DTYPES[save_dtype]
        self._files = [safe_open(str(f), framework="pt") for f in sorted(Path(reference_path).glob("*.safetensors"))]
        self._where = {name: f for f in self._files for name in f.keys()}
        self.update_sq = self.ref_sq = self.error_sq = 0.0

    def add(self, name: str, weight: torch.Tensor) -> None:
        if name not in self._where:
            return
        w0 = self._where[name].get_tensor(name).float()
        d = weight.detach().float().cpu() - w0
        kept = weight.detach().cpu().to(self.dtype).float() - w0.to(self.dtype).float()
        self.update_sq += float(d.pow(2).sum())
        self.ref_sq += float(w0.pow(2).sum())
        self.error_sq += float((kept - d).pow(2).sum())

    def result(self) -> dict:
        if self.update_sq == 0:
            return {"relative_update": 0.0, "rounding_error": 0.0}
        return {
            "relative_update": (self.update_sq / max(self.ref_sq, 1e-30)) ** 0.5,
            "rounding_error": (self.error_sq / self.update_sq) ** 0.5,
        }


def can_measure_update(reference_path: str) -> bool:
    """Whether the reference's weights are at hand (not for a hub id)."""
    return any(Path(reference_path).glob("*.safetensors"))


def measured_dtype(save_dtype: str) -> str:
    """The dtype the update is measured against: the saved one, or bf16 (the serving dtype a
    user may cast to later) for an fp32 checkpoint."""
    return "bfloat16" if save_dtype == "float32" else save_dtype


def report_update(sizes: dict, save_dtype: str) -> None:
    """Log the update's size; warn when saving in `save_dtype` changes it by more than half."""
    log.info(
        "weight update: ||w - w0|| / ||w0|| = %.3g; saved in %s it would be off by %.0f%% of itself",
        sizes["relative_update"],
        measured_dtype(save_dtype),
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
