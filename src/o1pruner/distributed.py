"""Which process this is when a launcher (torchrun, accelerate launch) starts several, and how
a global batch splits over them. Standard library only: the workflow's plan-time checks use it.
"""

from __future__ import annotations

import os


def process_count() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def release_process_group() -> None:
    """End torch.distributed once every rank's work is done. Left to the interpreter's exit, the
    process group's threads can be destroyed while still joinable: a rank then aborts ("terminate
    called without an active exception", SIGABRT) after its outputs are written, and the launcher
    reports the job failed (seen once in CI, on a 2-process DDP run that had finished)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


class BatchLayoutError(ValueError):
    """A global batch that the processes cannot split evenly."""


def gradient_accumulation(global_batch: int, per_device: int, processes: int) -> int:
    """Micro-batches per optimiser step, so that a step sees `global_batch` sequences however
    many processes train (the paper's batch of 32 stays 32 on 1 or 8 GPUs)."""
    per_step = per_device * processes
    if global_batch % per_step:
        raise BatchLayoutError(
            f"training.global_batch_size {global_batch} is not a multiple of per_device_batch_size {per_device} "
            f"x {processes} process(es) = {per_step}"
        )
    return global_batch // per_step
