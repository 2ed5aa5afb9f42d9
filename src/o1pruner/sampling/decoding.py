"""What every generation backend takes and returns, in one place: a `Decoding` request (how to
decode) and the `Generation` records (what came out). Token counts everywhere are the number of
generated token ids up to and including the end-of-turn token (what vLLM reports as
`len(output.token_ids)`), never re-tokenised text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Generation:
    token_ids: list[int]
    text: str
    truncated: bool  # stopped by max_new_tokens, not by an end-of-turn token


@dataclass(frozen=True)
class Decoding:
    """One generate call's decoding settings. Greedy unless `do_sample`; then `temperature` and
    `top_p` apply. `stop_token_ids` stop a response besides the end of turn (kept in its ids):
    budget forcing stops the thinking at its marker."""

    num_samples: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    stop_token_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop_token_ids", tuple(self.stop_token_ids))
