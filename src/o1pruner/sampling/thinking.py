"""Thinking and answer tokens apart, from the generated token ids.

Reasoning models write a thinking block before the answer: DeepSeek-R1 distills and QwQ-32B
open it in the chat template (the generation prompt ends with `<think>`), Qwen3 writes `<think>`
itself; all close it with one marker token, `</think>`. A response's thinking tokens are the
generated ids up to and including the first closing marker, its answer tokens the rest; a
response without the marker never closed its thinking (all of it counts as thinking). Counting
on the ids, not on re-tokenised text, keeps thinking + answer = the response's tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..io import InputError


@dataclass(frozen=True)
class ThinkingSplit:
    thinking_tokens: int
    answer_tokens: int
    closed: bool


def thinking_end_id(tokenizer, marker: str, model: str = "this model") -> int:
    """The one token id of the marker that closes the thinking block (`prompt.thinking_end`).

    The marker must be a single token that decodes back to itself: a marker spelt in several
    tokens can merge with what follows it ("</think>\\n\\n"), so it could not be found in the ids."""
    ids = tokenizer.encode(marker, add_special_tokens=False)
    if len(ids) != 1 or tokenizer.decode(ids, skip_special_tokens=False) != marker:
        raise InputError(
            f"config key prompt.thinking_end: {marker!r} is not one token of {model}'s tokenizer (it encodes to "
            f"{len(ids)} tokens); use the marker the model's chat template writes, e.g. '</think>'"
        )
    return ids[0]


def split_thinking(token_ids: list[int], end_id: int) -> ThinkingSplit:
    """Thinking = up to and including the first closing marker; answer = the rest."""
    try:
        end = token_ids.index(end_id) + 1
    except ValueError:
        return ThinkingSplit(len(token_ids), 0, False)
    return ThinkingSplit(end, len(token_ids) - end, True)
