"""Tokenised training examples and their collator, shared by every training method."""

from __future__ import annotations

import pandas as pd
import torch

from ..io import PROBLEM_REQUIRED, InputError, read_jsonl
from ..prompt import render_prompt


def encode_examples(
    tokenizer, problems: list[str], response_ids: list[list[int]], system_prompt: str | None, cutoff_len: int
) -> list[dict]:
    """Prompt ids + response ids (the sampled ids themselves, never re-tokenised text).

    Sequences longer than `cutoff_len` are cut from the right, as the released code's
    `cutoff_len` does; the mask still marks only response tokens.
    """
    prompts = [render_prompt(tokenizer, p, system_prompt) for p in problems]
    prompt_ids = tokenizer(prompts, add_special_tokens=False).input_ids
    out = []
    for p, r in zip(prompt_ids, response_ids):
        ids = (list(p) + list(r))[:cutoff_len]
        mask = ([0] * len(p) + [1] * len(r))[:cutoff_len]
        out.append({"input_ids": ids, "response_mask": mask})
    return out


def problem_rows(problems_path: str, problem_ids) -> dict[str, dict]:
    """id -> row (id, problem, answer) of the problems file; every id asked for must be there."""
    problems = {p["id"]: p for p in read_jsonl(problems_path, required=PROBLEM_REQUIRED)}
    missing = sorted(set(problem_ids) - set(problems))
    if missing:
        raise InputError(f"{problems_path}: no problem with id {missing[0]!r} (and {len(missing) - 1} more)")
    return problems


def problem_texts(problems_path: str, problem_ids) -> dict[str, str]:
    return {i: p["problem"] for i, p in problem_rows(problems_path, problem_ids).items()}


def trainset_examples(tokenizer, trainset: pd.DataFrame, problems_path: str, settings) -> list[dict]:
    """A training set's rows (problem id, sampled response ids) as encoded examples."""
    problems = problem_texts(problems_path, trainset["problem_id"])
    return encode_examples(
        tokenizer,
        [problems[i] for i in trainset["problem_id"]],
        [list(r) for r in trainset["response_ids"]],
        settings.system_prompt,
        settings.cutoff_len,
    )


class PaddingCollator:
    """Right-pads `input_ids`/`response_mask`; other numeric fields become tensors."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        batch = {
            "input_ids": torch.full((len(features), width), self.pad_token_id, dtype=torch.long),
            "attention_mask": torch.zeros((len(features), width), dtype=torch.long),
            "response_mask": torch.zeros((len(features), width), dtype=torch.long),
        }
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            batch["input_ids"][i, :n] = torch.tensor(f["input_ids"])
            batch["attention_mask"][i, :n] = 1
            batch["response_mask"][i, :n] = torch.tensor(f["response_mask"])
        for key in features[0]:
            if key not in batch:
                batch[key] = torch.tensor([f[key] for f in features], dtype=torch.float32)
        return batch
