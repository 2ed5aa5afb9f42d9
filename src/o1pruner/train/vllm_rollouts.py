"""GRPO's rollouts through vLLM (`training.grpo.rollouts: vllm`): TRL's vLLM integration in
colocate mode. Every training process builds an engine from the model folder, and TRL loads the
policy's current weights into it (`load_weights`) before each generation, so rollouts are
on-policy. The job runs in the vLLM environment (the launcher picks its interpreter), which holds
TRL beside vLLM. TRL's server mode (`trl vllm-serve` on GPUs of its own) is not used: it needs
NCCL between the trainer and the server, which has no CPU analogue to test it with here.
"""

from __future__ import annotations

import logging
import math
import os

from ..io import InputError

log = logging.getLogger(__name__)


def vllm_arguments(rollouts: dict | None) -> dict:
    """The GRPOConfig fields that switch rollouts to vLLM (none for transformers rollouts)."""
    if not rollouts:
        return {}
    return dict(
        use_vllm=True,
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=rollouts["gpu_memory_utilization"],
        vllm_enable_sleep_mode=False,
    )


def prepare_engine(args, rollouts: dict | None, tokenizer, prompts: list, max_positions: int | None) -> None:
    """Before the trainer builds the engine: its length (`vllm.max_model_len`, else the longest
    rendered prompt plus the rollout cap, within the model's positions: vLLM reserves KV cache
    for a whole sequence of that length) and, on CPU, its environment."""
    if not rollouts:
        return
    try:
        import vllm
    except ImportError:
        raise InputError(
            "training.grpo.rollouts: vllm, but vLLM is not installed in this environment: run the job from the "
            "vLLM environment (`bash scripts/setup.sh --vllm`; the workflow's launcher does so)"
        ) from None
    longest = max(
        len(tokenizer(tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True),
                      add_special_tokens=False)["input_ids"])
        for p in prompts
    )  # fmt: skip
    length = rollouts["max_model_len"] or longest + args.max_completion_length
    args.vllm_max_model_length = min(length, max_positions) if max_positions else length
    import torch

    if not torch.cuda.is_available():
        from ..sampling.vllm_backend import set_cpu_engine_environment

        set_cpu_engine_environment(None)  # the trainer sets the job's threads
        keep_plain_linear_weights()
        # the KV cache the config's size (vLLM's CPU build reads whole GiB)
        os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(max(1, math.ceil(rollouts["cpu_kv_cache_gib"])))
    log.info(
        "rollouts: vLLM %s in this process (TRL colocate mode), max_model_len %d, weights synced before each "
        "generation",
        vllm.__version__,
        args.vllm_max_model_length,
    )


def keep_plain_linear_weights() -> None:
    """On CPUs where vLLM's CPU build multiplies with oneDNN or its small-GEMM kernel (AVX-512
    ones, e.g.), it repacks each linear layer's weight after loading and leaves an empty tensor in
    its place; TRL's weight sync then has nothing to load into (`'Parameter' object has no
    attribute 'weight_loader'`) and GRPO stops at its first generation. The colocated engine keeps
    the plain weights and multiplies with torch's linear instead; sampling and evaluation engines
    are not affected."""
    from vllm import _custom_ops
    from vllm.model_executor.layers import utils

    _custom_ops._supports_onednn = False
    utils.check_cpu_sgl_kernel = lambda *args, **kwargs: False
