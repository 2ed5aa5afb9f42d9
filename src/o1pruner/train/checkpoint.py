"""The fine-tuned checkpoint: the weights gathered in fp32 from wherever training kept them
(this process, a DDP replica, or DeepSpeed ZeRO's partitions and fp32 master weights), measured
against the reference, cast to `training.save_dtype` and written by the main process.

Under DeepSpeed the module's own parameters are the bf16 compute copies (or, under ZeRO-3,
empty placeholders); the trained weights are the optimiser's fp32 master weights, which
`deepspeed.utils.safe_get_full_fp32_param` assembles. Each is cast to the saved dtype as soon
as it is gathered, so rank 0 holds at most one checkpoint's worth of memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import torch

from ..models import parameter_count
from .precision import SAVE_DTYPES, UpdateMeter, can_measure_update, measured_dtype, report_update

log = logging.getLogger(__name__)


def is_partitioned(model: torch.nn.Module) -> bool:
    """Whether DeepSpeed ZeRO-3 holds the parameters partitioned over the processes."""
    return any(hasattr(p, "ds_id") for p in model.parameters())


def describe_placement(model: torch.nn.Module) -> str:
    total = parameter_count(model.parameters())
    if not is_partitioned(model):
        return f"whole in this process ({total:,} parameters)"
    held = sum(p.ds_tensor.numel() for p in model.parameters())
    return f"created partitioned by ZeRO-3: this process holds {held:,} of {total:,} parameters"


def final_weights(model: torch.nn.Module, deepspeed: bool) -> Iterator[tuple[str, torch.Tensor]]:
    """(name, fp32 tensor on the CPU) for every parameter and persistent buffer. Under
    DeepSpeed a collective call that every rank makes, in the same order."""
    persistent = set(model.state_dict().keys())
    for name, p in model.named_parameters():
        if deepspeed:
            from deepspeed import zero
            from deepspeed.utils import safe_get_full_fp32_param

            weight = safe_get_full_fp32_param(p)
            if weight is None:  # a frozen parameter has no master copy: gather the parameter itself
                with zero.GatheredParameters([p]):
                    weight = p.detach().float().clone()
        else:
            weight = p.detach().float()
        yield name, weight.cpu()
    for name, b in model.named_buffers():
        if name in persistent:
            yield name, b.detach().cpu()


def save_checkpoint(
    model: torch.nn.Module, out_dir: str, reference_path: str, save_dtype: str, deepspeed: bool, main_process: bool
) -> dict | None:
    """Write `model`'s trained weights in `save_dtype` to `out_dir` (main process; every process
    calls it). Returns the measured update sizes (None where the reference's weights are not at
    hand, e.g. a hub id, and on other ranks)."""
    dtype = SAVE_DTYPES[save_dtype]
    meter = (
        UpdateMeter(reference_path, measured_dtype(save_dtype))
        if main_process and can_measure_update(reference_path)
        else None
    )
    state = {}
    for name, weight in final_weights(model, deepspeed):
        if not main_process:
            continue
        if meter is not None:
            meter.add(name, weight)
        state[name] = weight.to(dtype) if weight.is_floating_point() else weight
    if not main_process:
        return None
    sizes = meter.result() if meter is not None else None
    if sizes is not None:
        report_update(sizes, save_dtype)
    model.save_pretrained(out_dir, state_dict=state, safe_serialization=True)
    # save_pretrained records the dtype of the module's parameters; the file holds `save_dtype`.
    model.config.dtype = dtype
    model.config.save_pretrained(out_dir)
    return sizes
