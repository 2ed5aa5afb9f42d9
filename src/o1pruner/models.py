"""Loading models and tokenizers from a local folder or hub id, with clear errors."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from .config.inputs import model_folder_problem
from .distributed import local_rank
from .io import InputError

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "auto": "auto"}


def parameter_count(parameters) -> int:
    """Parameters counted whole, also where DeepSpeed ZeRO-3 has partitioned them (each process
    then holds an empty tensor and the full size is `ds_numel`)."""
    return sum(getattr(p, "ds_numel", p.numel()) for p in parameters)


def check_model_path(path: str) -> None:
    """A local model folder must exist and hold a config and a tokenizer.

    Anything that is not an existing folder and does not look like a path (`org/name`) is
    left to the hub; this machine has no hub, so such ids fail in `from_pretrained`.
    """
    p = Path(path)
    looks_local = p.is_absolute() or path.startswith(".") or p.exists() or path.count("/") != 1
    if not looks_local:
        return
    if not p.is_dir():
        raise InputError(f"model path {path!r} does not exist or is not a folder")
    problem = model_folder_problem(p)  # the check the workflow also runs when it is planned
    if problem:
        raise InputError(f"model path {path!r} {problem}")


def load_tokenizer(path: str, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    check_model_path(path)
    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if tok.chat_template is None:
        raise InputError(f"tokenizer at {path!r} has no chat template; the workflow prompts through it")
    return tok


def load_model(
    path: str,
    dtype: str = "float32",
    trust_remote_code: bool = False,
    device: str | None = "auto",
    attn_implementation: str | None = None,
):
    """Causal LM from safetensors only (no pickle), eval mode.

    `device="auto"` puts it on the GPU if there is one (sampling, evaluation, log-probs);
    `device=None` leaves it where it was loaded (CPU, low memory), for a Trainer to place it on
    its own process's device.
    """
    from transformers import AutoModelForCausalLM

    check_model_path(path)
    extra = {"attn_implementation": attn_implementation} if attn_implementation else {}
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=DTYPES[dtype], trust_remote_code=trust_remote_code, use_safetensors=True, **extra
    )
    if device == "auto":  # under a multi-process launcher, each rank its own GPU
        device = f"cuda:{local_rank()}" if torch.cuda.is_available() else "cpu"
    if device:
        model.to(device)
    model.eval()
    log.info(
        "loaded %s (%.1fM parameters, %s) on %s",
        path,
        parameter_count(model.parameters()) / 1e6,
        dtype,
        device or next(model.parameters()).device,
    )
    return model


def set_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
