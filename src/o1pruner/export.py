"""Training sets written for other trainers (`o1pruner export`).

A training set of the workflow is one of three kinds, told apart by its columns:
- `sft`: sampled responses to imitate (`response`; SFT's shortest correct samples);
- `preference`: pairs (`chosen`, `rejected`; DPO, SimPO, DAST);
- `o1_pruner`: sampled responses with their advantage and reference log-prob (`advantage`,
  `ref_logp`; the length-harmonizing methods).
Formats:
- `trl`: TRL's conversational datasets as JSON Lines: `messages` (SFT), or `prompt`, `chosen`,
  `rejected` (preference), each a list of `{role, content}` (TRL's SFTTrainer, DPOTrainer and
  CPOTrainer read them with `datasets.load_dataset("json", ...)`). An `o1_pruner` set is written
  as SFT-shaped `messages` with its `advantage` and `ref_logp` as extra columns.
- `llamafactory`: LLaMA-Factory's sharegpt format and its `dataset_info.json` entry (data/README.md
  of hiyouga/LLaMA-Factory): `conversations` of `{from: human|gpt, value}`, `system`, and for
  preference data `chosen` / `rejected` messages with `ranking: true`. An `o1_pruner` set keeps
  `advantage` and `ref_logp` as extra columns (the released O1-Pruner trained with a fork of
  LLaMA-Factory that reads such fields; upstream LLaMA-Factory ignores them).
- `parquet`: O1-Pruner's own (problem id, prompt messages, response text and ids, advantage,
  reference log-prob), with `README.md` stating each column.
The prompt is the workflow's one prompt definition (`prompt.build_messages`), with the run's
system prompt. Responses are the sampled text; the workflow's own trainers train on the sampled
token ids, which a re-tokenised text may not reproduce exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .io import InputError, atomic_path
from .prompt import build_messages
from .train.data import problem_texts

KINDS = {"preference": ("chosen", "rejected"), "o1_pruner": ("response", "advantage", "ref_logp"), "sft": ("response",)}
FORMATS = ("trl", "llamafactory", "parquet")
SHAREGPT_ROLE = {"user": "human", "assistant": "gpt"}


def trainset_kind(columns, path: str) -> str:
    """`preference`, `o1_pruner` or `sft`, from the columns of the training set at `path`."""
    for kind, needed in KINDS.items():
        if set(needed) <= set(columns):
            return kind
    raise InputError(f"{path}: not a training set of the workflow: no response column, nor chosen and rejected")


def export_trainset(trainset_path: str, problems_path: str, fmt: str, out: str, name: str,
                    system_prompt: str | None) -> dict:  # fmt: skip
    """Write the training set at `trainset_path` in format `fmt` into the folder `out`
    (atomically); returns what was written (kind, rows, files)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    df = pd.read_parquet(trainset_path)
    kind = trainset_kind(df.columns, trainset_path)
    texts = problem_texts(problems_path, df["problem_id"])
    prompts = [build_messages(texts[i], system_prompt) for i in df["problem_id"]]
    with atomic_path(out, is_dir=True) as tmp:
        files = {"trl": _trl, "llamafactory": _llamafactory, "parquet": _parquet}[fmt](
            df, kind, prompts, Path(tmp), name
        )
    return {"kind": kind, "rows": len(df), "files": files}


def _extra(df: pd.DataFrame, kind: str, i: int) -> dict:
    if kind != "o1_pruner":
        return {}
    return {"advantage": float(df["advantage"].iloc[i]), "ref_logp": float(df["ref_logp"].iloc[i])}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _trl(df, kind, prompts, out: Path, name: str) -> list[str]:
    rows = []
    for i, prompt in enumerate(prompts):
        if kind == "preference":
            rows.append({"prompt": prompt, "chosen": [{"role": "assistant", "content": df["chosen"].iloc[i]}],
                         "rejected": [{"role": "assistant", "content": df["rejected"].iloc[i]}]})  # fmt: skip
        else:
            answer = {"role": "assistant", "content": df["response"].iloc[i]}
            rows.append({"messages": [*prompt, answer], **_extra(df, kind, i)})
    _write_jsonl(out / f"{name}.jsonl", rows)
    return [f"{name}.jsonl"]


def _sharegpt(messages: list[dict]) -> tuple[str | None, list[dict]]:
    system = next((m["content"] for m in messages if m["role"] == "system"), None)
    turns = [{"from": SHAREGPT_ROLE[m["role"]], "value": m["content"]} for m in messages if m["role"] != "system"]
    return system, turns


def _llamafactory(df, kind, prompts, out: Path, name: str) -> list[str]:
    rows = []
    for i, prompt in enumerate(prompts):
        system, turns = _sharegpt(prompt)
        row = {"conversations": turns, **({"system": system} if system is not None else {})}
        if kind == "preference":
            row["chosen"] = {"from": "gpt", "value": df["chosen"].iloc[i]}
            row["rejected"] = {"from": "gpt", "value": df["rejected"].iloc[i]}
        else:
            row["conversations"] = [*turns, {"from": "gpt", "value": df["response"].iloc[i]}]
            row.update(_extra(df, kind, i))
        rows.append(row)
    (out / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    columns = {"messages": "conversations"}
    if any("system" in r for r in rows):
        columns["system"] = "system"
    entry = {"file_name": f"{name}.json", "formatting": "sharegpt", "columns": columns}
    if kind == "preference":
        entry["ranking"] = True
        columns.update(chosen="chosen", rejected="rejected")
    (out / "dataset_info.json").write_text(json.dumps({name: entry}, indent=1))
    return [f"{name}.json", "dataset_info.json"]


PARQUET_COLUMNS = {
    "problem_id": "the problem's id in the training split",
    "prompt": "the chat messages before the response (system prompt, problem), as the workflow renders them",
    "response": "the sampled response's text",
    "response_ids": "the sampled response's token ids (the reference model's tokenizer), end-of-turn included",
    "advantage": "the normalised length-harmonizing reward of the response (O1-Pruner's A)",
    "ref_logp": "the reference model's mean per-token log-probability of the response",
}


def _parquet(df, kind, prompts, out: Path, name: str) -> list[str]:
    if kind != "o1_pruner":
        raise InputError(f"the parquet export is O1-Pruner's own format; this is a {kind} training set (use trl or "
                         "llamafactory)")  # fmt: skip
    table = df[["problem_id", "response", "response_ids", "advantage", "ref_logp"]].copy()
    table.insert(1, "prompt", prompts)
    table.to_parquet(out / f"{name}.parquet", index=False)
    note = "\n".join(f"- `{k}`: {v}" for k, v in PARQUET_COLUMNS.items())
    (out / "README.md").write_text(f"# {name}: an O1-Pruner training set, one row per sampled response\n\n{note}\n")
    return [f"{name}.parquet", "README.md"]
