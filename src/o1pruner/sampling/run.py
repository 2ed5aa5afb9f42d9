"""Sample responses for a problem set and grade them: shared by pre-sampling and evaluation."""

from __future__ import annotations

import logging
import time

import pandas as pd

from ..grading import grade_many
from ..io import InputError
from ..prompt import render_prompt
from .budget import ForcedGeneration, budget_forced
from .thinking import split_thinking, thinking_end_id

log = logging.getLogger(__name__)


def grading_start_method(backend: str) -> str:
    """Grading workers are forks, except beside a vLLM engine (its threads): from a fork server."""
    return "forkserver" if backend == "vllm" else "fork"


def sample_and_grade(
    generator,
    tokenizer,
    problems: list[dict],
    *,
    num_samples: int,
    do_sample: bool,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    batch_size: int,
    seed: int,
    system_prompt: str | None,
    fast_prompt: bool = False,
    banned_phrases: list[str] = (),
    answer_box: str = "last",
    first_batch: int = 0,
    first_index: int = 0,
    grading_workers: int = 1,
    grading_start: str = "fork",
    thinking_end: str | None = None,
    budget_forcing=None,
) -> tuple[pd.DataFrame, float]:
    """One row per (problem, sample) with the documented sample columns; also the wall time of
    generation (grading, in `grading_workers` processes, is not in it).

    With `thinking_end` (the marker that closes a thinking block) every row also has its thinking
    and answer tokens and whether the block closed (`thinking.py`); with `budget_forcing` (a
    `BudgetForcingSettings`) the thinking is capped at its budget (`budget.py`), and the rows say
    whether the budget closed it."""
    prompts = [render_prompt(tokenizer, p["problem"], system_prompt, fast=fast_prompt) for p in problems]
    end_id = thinking_end_id(tokenizer, thinking_end) if thinking_end is not None else None
    decoding = dict(
        do_sample=do_sample,
        temperature=temperature,
        top_p=top_p,
        batch_size=batch_size,
        seed=seed,
        first_batch=first_batch,
        first_index=first_index,
        banned_phrases=list(banned_phrases),
    )
    start = time.perf_counter()
    if budget_forcing is not None:
        if end_id is None:
            raise InputError("budget forcing needs the marker that closes the thinking block (prompt.thinking_end)")
        generations = budget_forced(
            generator,
            prompts,
            budget=budget_forcing.budget,
            end_marker=thinking_end,
            end_id=end_id,
            answer_cue=budget_forcing.answer_cue,
            answer_max_tokens=budget_forcing.answer_max_tokens,
            **decoding,
        )
    else:
        generations = generator(prompts, num_samples=num_samples, max_new_tokens=max_new_tokens, **decoding)
    wall = time.perf_counter() - start
    df = grade_generations(
        tokenizer,
        problems,
        generations,
        answer_box=answer_box,
        grading_workers=grading_workers,
        grading_start=grading_start,
        thinking_end=thinking_end,
    )
    log.info(
        "%d responses, %d tokens in %.1f s (%.0f tokens/s)",
        len(df),
        df["n_tokens"].sum(),
        wall,
        df["n_tokens"].sum() / max(wall, 1e-9),
    )
    return df, wall


def grade_generations(
    tokenizer,
    problems: list[dict],
    generations: list[list],
    *,
    answer_box: str,
    grading_workers: int = 1,
    grading_start: str = "fork",
    thinking_end: str | None = None,
) -> pd.DataFrame:
    """The sample rows (documented columns) of each problem's generations, graded: those a
    backend made and those imported from another tool's file alike."""
    end_id = thinking_end_id(tokenizer, thinking_end) if thinking_end is not None else None
    pairs = [(p, j, g) for p, gens in zip(problems, generations) for j, g in enumerate(gens)]
    golds = [str(p["answer"]) for p, _, _ in pairs]
    flexible = [_answer_text(g, tokenizer, end_id, thinking_end) for _, _, g in pairs]
    grades = grade_many(
        [g.text for _, _, g in pairs], golds, answer_box, grading_workers, grading_start, flexible_texts=flexible
    )
    rows = [
        {
            "problem_id": p["id"],
            "sample_idx": j,
            "dataset": p.get("dataset"),
            "level": p.get("level"),
            "response": g.text,
            "response_ids": g.token_ids,
            "n_tokens": len(g.token_ids),
            "extracted_answer": gr.extracted_answer,
            "gold": gold,
            "correct": gr.correct,
            "correct_flexible": gr.correct_flexible,
            "unparseable": gr.unparseable,
            "truncated": g.truncated,
        }
        for (p, j, g), gold, gr in zip(pairs, golds, grades)
    ]
    if end_id is not None:
        for row, (_, _, g) in zip(rows, pairs):
            row.update(_thinking_columns(g, end_id))
            if not row["thinking_closed"]:  # cut off while thinking: no answer was given
                row.update(extracted_answer=None, correct=False, correct_flexible=False, unparseable=True)
    return pd.DataFrame(rows)


def _answer_text(g, tokenizer, end_id: int | None, thinking_end: str | None) -> str | None:
    """What the flexible rule reads: a finished response's answer (after the thinking block,
    where there is one); None for a truncated response, which gave no answer."""
    if g.truncated:
        return None
    if end_id is None:
        return g.text
    ids = list(g.token_ids)
    if end_id in ids:
        return tokenizer.decode(ids[ids.index(end_id) + 1 :], skip_special_tokens=True)
    if isinstance(g, ForcedGeneration) and g.closed:  # the marker was inserted, not generated
        return g.text.split(thinking_end, 1)[-1]
    return None


def _thinking_columns(g, end_id: int) -> dict:
    if isinstance(g, ForcedGeneration):
        return {
            "thinking_tokens": g.thinking_tokens,
            "answer_tokens": g.answer_tokens,
            "thinking_closed": g.closed,
            "budget_forced": g.forced,
        }
    split = split_thinking(g.token_ids, end_id)
    return {
        "thinking_tokens": split.thinking_tokens,
        "answer_tokens": split.answer_tokens,
        "thinking_closed": split.closed,
    }
