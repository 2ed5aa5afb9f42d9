"""Batched generation with transformers `generate` (the `Decoding` and `Generation` records of
decoding.py, as the vLLM backend)."""

from __future__ import annotations

import logging

import torch

from ..console import Progress
from .decoding import Decoding, Generation

log = logging.getLogger(__name__)


def _trim(ids: list[int], stop_ids: set[int], pad_id: int | None) -> tuple[list[int], bool]:
    for i, t in enumerate(ids):
        if t in stop_ids:
            return ids[: i + 1], False
    if pad_id is not None and pad_id not in stop_ids:
        while ids and ids[-1] == pad_id:
            ids = ids[:-1]
    return ids, True


def generate(
    model,
    tokenizer,
    prompts: list[str],
    decoding: Decoding,
    *,
    batch_size: int = 64,
    bad_words_ids: list[list[int]] | None = None,
    progress: bool = True,
) -> list[list[Generation]]:
    """`decoding.num_samples` generations per prompt; batches hold up to `batch_size` sequences.

    Prompts are processed in the given order with a fixed seed per batch, so the same inputs
    and settings give the same outputs. A batch that runs out of memory is split in half.
    Every decoding parameter comes from the arguments: the checkpoint's generation_config.json
    (a repetition penalty, top-k or min-p shipped with instruct models) is set aside meanwhile,
    and only its end-of-turn ids are kept as stop ids.
    """
    num_samples, do_sample = decoding.num_samples, decoding.do_sample
    tokenizer.padding_side = "left"
    stop_ids = {tokenizer.eos_token_id}
    if model.generation_config.eos_token_id is not None:
        eos = model.generation_config.eos_token_id
        stop_ids |= set(eos if isinstance(eos, list) else [eos])
    stop_ids |= set(decoding.stop_token_ids)
    prompts_per_batch = max(1, batch_size // num_samples)
    results: list[list[Generation]] = []
    batches = [prompts[i : i + prompts_per_batch] for i in range(0, len(prompts), prompts_per_batch)]
    device = next(model.parameters()).device
    gen_kwargs = dict(
        do_sample=do_sample,
        max_new_tokens=decoding.max_new_tokens,
        num_return_sequences=num_samples,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=sorted(stop_ids),
        bad_words_ids=bad_words_ids,
        num_beams=1,
        repetition_penalty=1.0,
        length_penalty=1.0,
        no_repeat_ngram_size=0,
        min_p=None,
        top_k=0,
    )
    if do_sample:
        gen_kwargs.update(temperature=decoding.temperature, top_p=decoding.top_p)
    else:
        gen_kwargs.update(temperature=1.0, top_p=1.0)
    bar = Progress(total=len(prompts), desc="generate", disable=not progress)
    checkpoint_config = model.generation_config
    model.generation_config = neutral_generation_config(checkpoint_config)
    try:
        for b, batch in enumerate(batches):
            results.extend(_generate_batch(model, tokenizer, batch, device, decoding.seed + b, stop_ids, gen_kwargs))
            bar.update(len(batch))
    finally:
        model.generation_config = checkpoint_config
    bar.close()
    return results


def neutral_generation_config(checkpoint_config):
    """A generation config with transformers' neutral defaults and the checkpoint's special
    token ids only: `generate` fills every unset value from `model.generation_config`, so the
    checkpoint's own decoding settings must not be there while the workflow's are used."""
    from transformers import GenerationConfig

    ids = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")
    return GenerationConfig(**{k: getattr(checkpoint_config, k, None) for k in ids})


def _generate_batch(model, tokenizer, batch, device, seed, stop_ids, gen_kwargs) -> list[list[Generation]]:
    try:
        enc = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        torch.manual_seed(seed)
        with torch.inference_mode():
            out = model.generate(**enc, **gen_kwargs)
    except torch.OutOfMemoryError:
        if len(batch) == 1:
            raise
        half = len(batch) // 2
        log.warning("out of memory with %d prompts per batch; halving to %d", len(batch), half)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        first = _generate_batch(model, tokenizer, batch[:half], device, seed, stop_ids, gen_kwargs)
        return first + _generate_batch(model, tokenizer, batch[half:], device, seed + 7919, stop_ids, gen_kwargs)
    num_samples = gen_kwargs["num_return_sequences"]
    new = out[:, enc["input_ids"].shape[1] :].tolist()
    grouped = []
    for i in range(len(batch)):
        gens = []
        for ids in new[i * num_samples : (i + 1) * num_samples]:
            ids, truncated = _trim(ids, stop_ids, tokenizer.pad_token_id)
            gens.append(Generation(ids, tokenizer.decode(ids, skip_special_tokens=True), truncated))
        grouped.append(gens)
    return grouped
