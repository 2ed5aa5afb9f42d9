"""The generation backends behind one call signature (keyword arguments: the fields of
`decoding.Decoding` plus the job's seed offsets, banned phrases and batch size).

`transformers`: batched `generate` (CPU or GPU), one seed per batch of the unsharded run.
`vllm`: the vLLM engine (see vllm_backend for seeds per platform). Both return `Generation`
records whose token counts are the generated token ids including the end-of-turn token.
"""

from __future__ import annotations

from .banned import banned_token_sequences
from .decoding import Decoding, Generation
from .hf_backend import generate as hf_generate


class Generator:
    """A loaded model (`backend` "transformers": a transformers model; "vllm": a vLLM engine, also
    `self.llm`) behind one call."""

    def __init__(self, backend: str, model, tokenizer):
        self.backend, self.model, self.tokenizer = backend, model, tokenizer
        self.llm = model if backend == "vllm" else None

    def __call__(
        self,
        prompts,
        *,
        seed: int,
        first_batch: int = 0,
        first_index: int = 0,
        banned_phrases=(),
        batch_size: int = 64,
        **decoding,
    ) -> list[list[Generation]]:
        if self.backend == "vllm":
            from .vllm_backend import generate

            # vLLM schedules its own batches (batch_size is the transformers backend's) and seeds
            # per prompt index; transformers seeds per batch.
            return generate(
                self.model,
                self.tokenizer,
                prompts,
                Decoding(seed=seed, **decoding),
                first_index=first_index,
                banned_phrases=list(banned_phrases),
            )
        return hf_generate(
            self.model,
            self.tokenizer,
            prompts,
            Decoding(seed=seed + first_batch, **decoding),
            batch_size=batch_size,
            bad_words_ids=banned_token_sequences(self.tokenizer, list(banned_phrases)) or None,
        )


def load_generator(model_path: str, settings, threads: int | None, first_index: int = 0):
    """The configured backend's generator for a job whose first prompt has global index
    `first_index` (it seeds the vLLM engine where per-request seeds are not supported).
    `settings`: a job's `PresampleSettings` or `EvaluationSettings`."""
    from ..models import check_model_path, load_model, load_tokenizer, set_threads

    set_threads(threads)
    trust = settings.trust_remote_code
    tokenizer = load_tokenizer(model_path, trust)
    if settings.backend == "vllm":
        from .vllm_backend import load_llm

        check_model_path(model_path)
        llm = load_llm(model_path, settings.dtype, settings.vllm, settings.seed + first_index, trust, threads)
        return Generator("vllm", llm, tokenizer), tokenizer
    model = load_model(model_path, settings.dtype, trust)
    return Generator("transformers", model, tokenizer), tokenizer
