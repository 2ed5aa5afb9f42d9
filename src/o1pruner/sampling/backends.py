"""The generation backends behind one call signature.

`transformers`: batched `generate` (CPU or GPU), one seed per batch of the unsharded run.
`vllm`: GPU, one seed per prompt. Both return `Generation` records whose token counts are the
generated token ids including the end-of-turn token.
"""

from __future__ import annotations

from .hf_backend import Generation
from .hf_backend import generate as hf_generate


def banned_token_sequences(tokenizer, phrases: list[str]) -> list[list[int]] | None:
    """Token sequences of each phrase, with and without a leading space (mid- and line-start)."""
    seqs = []
    for phrase in phrases:
        for variant in (phrase, " " + phrase):
            ids = tokenizer(variant, add_special_tokens=False).input_ids
            if ids and ids not in seqs:
                seqs.append(ids)
    return seqs or None


class TransformersGenerator:
    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer

    def __call__(
        self, prompts, *, seed: int, first_batch: int = 0, first_index: int = 0, banned_phrases=(), **kwargs
    ) -> list[list[Generation]]:
        return hf_generate(
            self.model,
            self.tokenizer,
            prompts,
            seed=seed + first_batch,
            bad_words_ids=banned_token_sequences(self.tokenizer, list(banned_phrases)),
            **kwargs,
        )


class VLLMGenerator:
    def __init__(self, llm, tokenizer):
        self.llm, self.tokenizer = llm, tokenizer

    def __call__(
        self,
        prompts,
        *,
        seed: int,
        first_batch: int = 0,
        first_index: int = 0,
        banned_phrases=(),
        batch_size: int | None = None,
        **kwargs,
    ) -> list[list[Generation]]:
        from .vllm_backend import generate

        # vLLM schedules its own batches; batch_size only applies to the transformers backend.
        return generate(
            self.llm,
            self.tokenizer,
            prompts,
            seed=seed,
            first_index=first_index,
            banned_phrases=list(banned_phrases),
            **kwargs,
        )


def load_generator(model_path: str, settings: dict, threads: int | None):
    from ..models import check_model_path, load_model, load_tokenizer, set_threads

    set_threads(threads)
    trust = settings.get("trust_remote_code", False)
    tokenizer = load_tokenizer(model_path, trust)
    if settings.get("backend", "transformers") == "vllm":
        from .vllm_backend import load_llm

        check_model_path(model_path)
        v = settings.get("vllm", {})
        llm = load_llm(
            model_path,
            settings.get("dtype", "bfloat16"),
            v.get("tensor_parallel_size", 1),
            v.get("max_model_len"),
            settings.get("seed", 0),
            v.get("gpu_memory_utilization", 0.9),
            trust,
        )
        return VLLMGenerator(llm, tokenizer), tokenizer
    model = load_model(model_path, settings.get("dtype", "float32"), trust)
    return TransformersGenerator(model, tokenizer), tokenizer
