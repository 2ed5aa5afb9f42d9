"""Generation with vLLM (GPU): the same `Generation` records as the transformers backend.

Each prompt gets its own seed (`seed + global index`), so samples do not depend on how the
problems are batched or sharded. Token counts are `len(output.token_ids)`, which includes the
end-of-turn token, as in the transformers backend. vLLM is optional: install the `vllm` extra
(or use envs/vllm.yaml), since it pins its own torch and transformers.
"""

from __future__ import annotations

from .hf_backend import Generation


def load_llm(
    model_path: str,
    dtype: str,
    tensor_parallel_size: int,
    max_model_len: int | None,
    seed: int,
    gpu_memory_utilization: float = 0.9,
    trust_remote_code: bool = False,
):
    from vllm import LLM

    return LLM(
        model=model_path,
        dtype=dtype,
        tensor_parallel_size=tensor_parallel_size,
        max_model_len=max_model_len,
        seed=seed,
        gpu_memory_utilization=gpu_memory_utilization,
        trust_remote_code=trust_remote_code,
        # Decoding settings come from the workflow only, never from the checkpoint's
        # generation_config.json ("vllm" = vLLM's neutral defaults).
        generation_config="vllm",
    )


def generate(
    llm,
    tokenizer,
    prompts: list[str],
    *,
    num_samples: int = 1,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_new_tokens: int = 256,
    seed: int = 0,
    first_index: int = 0,
    banned_phrases: list[str] | None = None,
) -> list[list[Generation]]:
    from vllm import SamplingParams

    params = [
        SamplingParams(
            n=num_samples,
            temperature=temperature if do_sample else 0.0,
            top_p=top_p if do_sample else 1.0,
            top_k=-1,
            min_p=0.0,
            repetition_penalty=1.0,
            presence_penalty=0.0,
            frequency_penalty=0.0,
            max_tokens=max_new_tokens,
            seed=seed + first_index + i,
            stop_token_ids=[tokenizer.eos_token_id],
            bad_words=list(banned_phrases) if banned_phrases else None,
            skip_special_tokens=True,
        )
        for i in range(len(prompts))
    ]
    outputs = llm.generate(prompts, params, use_tqdm=True)
    return [
        [Generation(list(o.token_ids), o.text, o.finish_reason == "length") for o in request.outputs]
        for request in outputs
    ]
