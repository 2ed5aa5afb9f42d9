"""Final-answer extraction and equivalence checking.

Extraction takes the last `\\boxed{...}` with balanced braces (the released O1-Pruner code took
the first; `which="first"` reproduces that). Equivalence is math-verify's, with its
signal-based timeouts disabled: they only work in the main thread, and graders run inside
worker threads and processes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")


def extract_boxed(text: str, which: str = "last") -> str | None:
    """Content of the last (or first) `\\boxed{...}`, braces balanced; None if there is none."""
    found = []
    for m in BOX_RE.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            found.append(text[m.end() : i - 1].strip())
            if which == "first":
                break
    if not found:
        return None
    return found[0] if which == "first" else found[-1]


@dataclass(frozen=True)
class Grade:
    extracted_answer: str | None
    correct: bool
    unparseable: bool


@lru_cache(maxsize=65536)
def _parse_gold(gold: str):
    from math_verify import parse

    return parse(f"${gold}$", parsing_timeout=None)


def answers_match(gold: str, predicted: str) -> bool:
    """math-verify equivalence; exact string match short-circuits the symbolic check."""
    if _normalise(predicted) == _normalise(gold):
        return True
    from math_verify import parse, verify

    gold_parsed = _parse_gold(gold)
    pred_parsed = parse(f"\\boxed{{{predicted}}}", parsing_timeout=None)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=None))


def grade(response: str, gold: str, which: str = "last") -> Grade:
    answer = extract_boxed(response, which)
    if answer is None:
        return Grade(None, False, True)
    return Grade(answer, answers_match(gold, answer), False)


def _normalise(s: str) -> str:
    return re.sub(r"\s+", "", s).strip("$").rstrip(".")
