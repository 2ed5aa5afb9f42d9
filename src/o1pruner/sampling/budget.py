"""Budget forcing: thinking capped at B tokens, then the block is closed and the answer asked for.

The protocol of s1 (Muennighoff et al., arXiv 2501.19393) and of the token-budget evaluations
that followed it. Two generation calls, each one batched call over all prompts:

1. The thinking, up to `budget` tokens, stopping at the closing marker.
2. For every response that is still thinking at the budget, the prompt, the thinking so far,
   the closing marker and `answer_cue`; for one that closed its thinking itself, the prompt and
   its thinking. Either way the model then writes its answer, up to `answer_max_tokens`.

A response that ended (end of turn) without closing its thinking gets no second call. The second
call's prompt is text (the engines take text prompts), so the thinking is re-tokenised there;
counts come from the generated ids of each call only: thinking tokens <= budget, answer tokens
<= answer_max_tokens, and the inserted marker and cue are counted in neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from .decoding import Generation


@dataclass
class ForcedGeneration(Generation):
    """A budget-forced response: `token_ids` are the generated ids of both calls, `text` the
    whole response as the model saw it (with the inserted marker and cue)."""

    thinking_tokens: int = 0
    answer_tokens: int = 0
    closed: bool = False  # the thinking block was closed, by the model or by the budget
    forced: bool = False  # closed by the budget


def budget_forced(
    generator,
    prompts: list[str],
    *,
    budget: int,
    end_marker: str,
    end_id: int,
    answer_cue: str,
    answer_max_tokens: int,
    **decoding,
) -> list[list[ForcedGeneration]]:
    """One budget-forced response per prompt (greedy or sampled as `decoding` says)."""
    decoding = {**decoding, "num_samples": 1}
    thinking = [gens[0] for gens in generator(prompts, max_new_tokens=budget, stop_token_ids=[end_id], **decoding)]
    follow_up = {}
    for i, (prompt, g) in enumerate(zip(prompts, thinking)):
        closed_by_model = bool(g.token_ids) and g.token_ids[-1] == end_id
        # An engine may leave the stop token out of the text (vLLM does): the marker is written here.
        text = g.text.removesuffix(end_marker)
        if closed_by_model:
            follow_up[i] = prompt + text + end_marker
        elif g.truncated:
            follow_up[i] = prompt + text + end_marker + answer_cue
    order = sorted(follow_up)
    answers = generator([follow_up[i] for i in order], max_new_tokens=answer_max_tokens, **decoding) if order else []
    answer_of = {i: gens[0] for i, gens in zip(order, answers)}
    out = []
    for i, g in enumerate(thinking):
        a = answer_of.get(i)
        if a is None:  # ended without closing its thinking: no answer asked for
            out.append([ForcedGeneration(g.token_ids, g.text, False, len(g.token_ids), 0, False, False)])
            continue
        forced = not (g.token_ids and g.token_ids[-1] == end_id)
        closing = end_marker + answer_cue if forced else end_marker
        out.append(
            [
                ForcedGeneration(
                    g.token_ids + a.token_ids,
                    g.text.removesuffix(end_marker) + closing + a.text,
                    a.truncated,
                    len(g.token_ids),
                    len(a.token_ids),
                    True,
                    forced,
                )
            ]
        )
    return out
