"""The vLLM logits processor behind the banned-phrase control (imported inside vLLM's engine
processes by its name, `o1pruner.sampling.vllm_logits:BannedSequences`)."""

from __future__ import annotations

from vllm.v1.sample.logits_processor import AdapterLogitsProcessor

from .banned import VLLM_EXTRA_ARGS_KEY, banned_next_tokens


class BannedSequences(AdapterLogitsProcessor):
    """Bans, per request, each token that would complete a banned spelling (see banned.py),
    given as `SamplingParams(extra_args={"o1pruner_banned": [[ids, ...], ...]})`."""

    def is_argmax_invariant(self) -> bool:
        return False  # it changes greedy decoding too

    def new_req_logits_processor(self, params):
        seqs = (params.extra_args or {}).get(VLLM_EXTRA_ARGS_KEY)
        if not seqs:
            return None

        def ban(output_ids, logits):
            for token in banned_next_tokens(output_ids, seqs):
                logits[token] = float("-inf")
            return logits

        return ban
