"""The banned-phrase control (`marker_ban`): every token sequence a phrase can take in
generated text, built once here and applied exactly, as token ids, by both backends.

A BPE tokenizer spells a phrase differently by what precedes it: `Wait` at the start of a line
may be `Wa` `it`, after a space the single token `ĠWait`. Each phrase is therefore tokenised
after a few contexts (nothing, a space, a newline, punctuation) and the tokens the context
contributes are removed; what is left is one spelling of the phrase. Generation may not
complete any of them: the last token of a spelling is banned whenever the tokens generated
just before it are the rest of that spelling (the semantics of transformers' `bad_words_ids`).
"""

from __future__ import annotations

# Where a vLLM request carries its banned spellings (`SamplingParams.extra_args`).
VLLM_EXTRA_ARGS_KEY = "o1pruner_banned"

CONTEXTS = ("", " ", "\n", "\n\n", ".", ". ", ",", ", ", "(", '"', ":", "-")


def banned_token_sequences(tokenizer, phrases: list[str]) -> list[list[int]]:
    """Each spelling, as token ids, of each phrase (no duplicates, in a fixed order)."""
    seqs: list[list[int]] = []
    for phrase in phrases:
        for context in CONTEXTS:
            whole = tokenizer(context + phrase, add_special_tokens=False).input_ids
            head = tokenizer(context, add_special_tokens=False).input_ids if context else []
            shared = 0
            while shared < min(len(head), len(whole)) and head[shared] == whole[shared]:
                shared += 1
            spelling = whole[shared:]
            if spelling and spelling not in seqs:
                seqs.append(spelling)
    return seqs


def banned_next_tokens(output_ids: list[int], seqs: list[list[int]]) -> set[int]:
    """The tokens that would complete a banned spelling after `output_ids`."""
    banned = set()
    for seq in seqs:
        n = len(seq) - 1
        if n == 0 or (len(output_ids) >= n and list(output_ids[-n:]) == seq[:-1]):
            banned.add(seq[-1])
    return banned
