"""Final-answer extraction and equivalence checking.

Extraction takes the last `\\boxed{...}` with balanced braces (the released O1-Pruner code took
the first; `which="first"` reproduces that): the strict rule, the paper's. Beside it, a flexible
one for a finished response without a box (`flexible_answer`): math-verify's own extraction
targets in its answer ("the final answer is $x$", then the last expression), as
lm-evaluation-harness reports `flexible-extract` beside `strict-match`. Equivalence is math-verify's: the gold answer is
wrapped as `$gold$`, the prediction as `\\boxed{pred}`. math-verify's timeouts use SIGALRM,
which only works in a process's main thread: they are used there (the CLI, and each worker of
`grade_many`'s process pool) and switched off elsewhere (threads), where they would raise.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
CHOICE_RE = re.compile(r"^\(?\s*(?:\\text\{\s*)?\(?([A-E])\)?\s*\}?\)?\s*[.:]?$")
TIMEOUT_S = 5


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
    # The flexible rule: the boxed answer where there is one, else `flexible_answer` of the
    # answer text given for it (none given, as for a truncated response: not correct).
    correct_flexible: bool = False


def _timeout() -> int | None:
    return TIMEOUT_S if threading.current_thread() is threading.main_thread() else None


@lru_cache(maxsize=65536)
def _parse_gold(gold: str):
    from math_verify import parse

    return parse(f"${gold}$", parsing_timeout=_timeout())


def choice_letter(answer: str) -> str | None:
    """ "B", "(B)", "\\text{(B)}" -> "B"; anything else -> None."""
    m = CHOICE_RE.match(answer.strip())
    return m.group(1) if m else None


def symbolic_match(gold: str, predicted: str) -> bool:
    """math-verify equivalence of `$gold$` and `\\boxed{predicted}`."""
    from math_verify import parse, verify

    gold_parsed = _parse_gold(gold)
    pred_parsed = parse(f"\\boxed{{{predicted}}}", parsing_timeout=_timeout())
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=_timeout()))


def answers_match(gold: str, predicted: str) -> bool:
    """Multiple-choice letters compare as letters; identical strings match without parsing."""
    gold_letter = choice_letter(gold)
    if gold_letter:
        return choice_letter(predicted) == gold_letter
    if _normalise(predicted) == _normalise(gold):
        return True
    return symbolic_match(gold, predicted)


def flexible_answer(text: str) -> str | None:
    """math-verify's first answer in `text` by its extraction targets' priority (LaTeX with or
    without an anchor such as "final answer is", then a plain expression); None if none."""
    from math_verify import parse

    parsed = parse(text, extraction_mode="first_match", parsing_timeout=_timeout())
    return str(parsed[1]) if len(parsed) > 1 else None


def grade(response: str, gold: str, which: str = "last", flexible_text: str | None = None) -> Grade:
    """The strict grade of `response` and the flexible one: its boxed answer, or where it has none,
    the answer found in `flexible_text` (the finished response's answer; None: none found)."""
    answer = extract_boxed(response, which)
    correct = answer is not None and answers_match(gold, answer)
    flexible = correct
    if answer is None and flexible_text is not None:
        found = flexible_answer(flexible_text)
        flexible = found is not None and answers_match(gold, found)
    return Grade(answer, correct, answer is None, flexible)


def _grade_pair(args: tuple[str, str, str, str | None]) -> Grade:
    return grade(*args)


def grade_many(
    responses: list[str],
    golds: list[str],
    which: str = "last",
    workers: int = 1,
    start_method: str = "fork",
    flexible_texts: list[str | None] | None = None,
) -> list[Grade]:
    """Grade in `workers` processes (each with working timeouts), order preserved. Forked workers
    start at once (834 graded samples/s on 2 cores, against 294/s from a fork server, whose
    workers import the grader first); a caller running an engine with its own threads (vLLM)
    passes `forkserver`, so that no worker is a fork of those threads. `flexible_texts[i]`:
    response i's answer text for the flexible rule (None: not graded flexibly)."""
    flexible_texts = flexible_texts or [None] * len(responses)
    jobs = [(r, g, which, f) for r, g, f in zip(responses, golds, flexible_texts, strict=True)]
    if workers <= 1 or len(jobs) < 64:
        return [_grade_pair(j) for j in jobs]
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(start_method)) as pool:
        return list(pool.map(_grade_pair, jobs, chunksize=max(16, len(jobs) // (8 * workers))))


def _normalise(s: str) -> str:
    return re.sub(r"\s+", "", s).strip("$").rstrip(".")
