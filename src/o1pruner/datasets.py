"""Benchmark preparation: MATH, MATH-500, GSM8K, GaoKao, AIME24/25, AMC23, OlympiadBench -> one
normalised format.

Each prepared row has `id, problem, answer, dataset` plus what the source has (`level`,
`subject`, `solution`). Sources are a local file in the dataset's published format (JSONL,
JSON list, Parquet) or a Hugging Face hub id loaded through `datasets`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config.inputs import is_local_source
from .grading import extract_boxed
from .io import InputError, write_json, write_jsonl


def _strip_dollars(s: str) -> str:
    s = s.strip()
    while len(s) >= 2 and s.startswith("$") and s.endswith("$"):
        s = s[1:-1].strip()
    return s


def gsm8k_answer(row: dict) -> str | None:
    """The number after `####`, thousands separators removed."""
    text = row.get("answer")
    if not isinstance(text, str) or "####" not in text:
        return None
    return text.rsplit("####", 1)[1].strip().replace(",", "")


def math_answer(row: dict) -> str | None:
    """`answer` if present, else the last `\\boxed{}` of `solution`."""
    if row.get("answer") not in (None, ""):
        return str(row["answer"]).strip()
    return extract_boxed(row.get("solution") or "")


def gaokao_answer(row: dict) -> str | None:
    """`answer` without surrounding `$`; one published row ends in a stray "solution:"."""
    a = row.get("answer")
    if a in (None, ""):
        return None
    return _strip_dollars(re.sub(r"(?i)\s*solution:\s*$", "", str(a)))


def gaokao_inline_answer(row: dict) -> dict:
    """Two rows of the published GaoKao 2023 file have an empty `answer` and carry it at the end
    of the question instead ("...point.answers: $\\frac{3}{10}$", "...(D) $435(100b)$Answer: A").
    Move it to `answer` so the problem text does not give it away."""
    question = row.get("question") or ""
    m = re.search(r"(?i)answers?:\s*(\S.*?)\s*$", question)
    if row.get("answer") in (None, "") and m:
        return {**row, "question": question[: m.start()].rstrip(), "answer": m.group(1)}
    return row


def number_answer(row: dict) -> str | None:
    """A numeric answer as a clean string: 27.0 -> "27", "025" stays as published."""
    a = row.get("answer")
    if a in (None, ""):
        return None
    if isinstance(a, float):
        return str(int(a)) if a.is_integer() else repr(a)
    return str(a).strip()


def olympiadbench_answer(row: dict) -> str | None:
    """`final_answer` is a list of LaTeX strings (always one in the English open-ended maths
    set); a multiple answer is one string of comma-separated parts, a tuple or interval is
    written as such. `$` delimiters and a trailing full stop are removed; the unit (`unit`, 8 of
    675 problems) is not part of the answer."""
    answers = row.get("final_answer")
    if isinstance(answers, str):
        answers = [answers]
    if not answers:
        return None
    parts = [re.sub(r"\.\s*$", "", _strip_dollars(str(a))).strip() for a in answers]
    # "$69$,$84$": dollar-delimited parts inside one string
    answer = ", ".join(_strip_dollars(p).replace("$,$", ", ").replace("$", "") for p in parts if p)
    if row.get("answer_type") == "Interval":
        # one published interval carries its variable: "t(0,4]" is the interval (0,4]
        answer = re.sub(r"^[a-z]\s*(?=[(\[])", "", answer)
    return answer


def olympiadbench_problem(row: dict) -> dict:
    """The problem text: `context` (a shared preamble, where present) before `question`."""
    if row.get("context"):
        return {**row, "question": f"{row['context']}\n\n{row['question']}"}
    return row


def _level(value) -> int | None:
    if value is None:
        return None
    m = re.search(r"\d+", str(value))
    return int(m.group()) if m else None


@dataclass(frozen=True)
class DatasetSpec:
    problem_field: str
    answer: Callable[[dict], str | None]
    hub_id: str
    hub_config: str | None = None
    hub_configs_all: tuple[str, ...] = ()  # datasets split across configs (hendrycks_math subjects)
    fix_row: Callable[[dict], dict] | None = None  # repairs known defects of the published file


MATH_SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)

DATASETS: dict[str, DatasetSpec] = {
    "math": DatasetSpec("problem", math_answer, "EleutherAI/hendrycks_math", hub_configs_all=MATH_SUBJECTS),
    "math500": DatasetSpec("problem", math_answer, "HuggingFaceH4/MATH-500"),
    "gsm8k": DatasetSpec("question", gsm8k_answer, "openai/gsm8k", "main"),
    "gaokao": DatasetSpec(
        "question", gaokao_answer, "MARIO-Math-Reasoning/Gaokao2023-Math-En", fix_row=gaokao_inline_answer
    ),
    "aime24": DatasetSpec("problem", number_answer, "math-ai/aime24"),
    "aime25": DatasetSpec("problem", number_answer, "math-ai/aime25"),
    "amc23": DatasetSpec("problem", number_answer, "math-ai/amc23"),
    "olympiadbench": DatasetSpec(
        "question", olympiadbench_answer, "Hothan/OlympiadBench", "OE_TO_maths_en_COMP", fix_row=olympiadbench_problem
    ),
}


def read_source(source: str, split: str = "test", spec: DatasetSpec | None = None) -> list[tuple[str, dict]]:
    """Rows with a location string ("file, line N" / "hub id[split] row N") for error messages."""
    path = Path(source)
    if path.exists():
        return _read_file(path)
    if is_local_source(source):
        raise InputError(f"dataset source {source!r} does not exist")
    return _read_hub(source, split, spec)


def _read_file(path: Path) -> list[tuple[str, dict]]:
    if path.suffix == ".parquet":
        import pandas as pd

        return [(f"{path}, row {i + 1}", r) for i, r in enumerate(pd.read_parquet(path).to_dict("records"))]
    text = path.read_text()
    if path.suffix == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}, line {e.lineno}: not valid JSON ({e.msg})") from None
        return [(f"{path}, item {i + 1}", r) for i, r in enumerate(rows)]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((f"{path}, line {n}", json.loads(line)))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}, line {n}: not valid JSON ({e.msg})") from None
    return out


def _read_hub(hub_id: str, split: str, spec: DatasetSpec | None) -> list[tuple[str, dict]]:
    from datasets import load_dataset

    configs = (
        list(spec.hub_configs_all)
        if spec and spec.hub_configs_all and hub_id == spec.hub_id
        else [spec.hub_config if spec and hub_id == spec.hub_id else None]
    )
    out = []
    for config in configs:
        ds = load_dataset(hub_id, config, split=split)
        out += [(f"{hub_id}[{config or ''}:{split}] row {i + 1}", dict(r)) for i, r in enumerate(ds)]
    return out


def normalise(name: str, located_rows: list[tuple[str, dict]]) -> list[dict]:
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    spec = DATASETS[name]
    out = []
    for i, (where, row) in enumerate(located_rows):
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object")
        if spec.fix_row:
            row = spec.fix_row(row)
        problem = row.get(spec.problem_field) or row.get("problem") or row.get("question")
        if not isinstance(problem, str) or not problem.strip():
            raise InputError(f"{where}: missing field {spec.problem_field!r} (the problem text)")
        answer = spec.answer(row)
        if answer in (None, ""):
            raise InputError(
                f"{where}: no gold answer (field 'answer'"
                f"{' or a boxed answer in solution' if spec.answer is math_answer else ''})"
            )
        item = {
            "id": str(row.get("unique_id") or row.get("id") or f"{name}-{i:05d}"),
            "problem": problem,
            "answer": answer,
            "dataset": name,
        }
        if row.get("level") is not None:
            item["level"] = _level(row["level"])
        if row.get("subject") or row.get("type"):
            item["subject"] = row.get("subject") or row.get("type")
        if isinstance(row.get("solution"), str):
            item["solution"] = row["solution"]
        for extra in ("unit", "answer_type"):  # OlympiadBench
            if row.get(extra):
                item[extra] = row[extra]
        out.append(item)
    ids = [r["id"] for r in out]
    if len(set(ids)) != len(ids):  # some sources number rows per file; make ids unique and stable
        for i, r in enumerate(out):
            r["id"] = f"{name}-{i:05d}"
    return out


def subset(rows: list[dict], n: int | None, seed: int) -> list[dict]:
    """The paper's subsetting: a seeded shuffle, then the first n (all rows if n is None)."""
    if n is not None and n > len(rows):
        raise InputError(f"-n {n} asks for more problems than the source has ({len(rows)})")
    if n is None or n == len(rows):
        return rows
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    return [rows[i] for i in sorted(order[:n])]


def prepare(name: str, source: str, split: str, out: str, n: int | None = None, seed: int = 0) -> list[dict]:
    """Load, normalise, subset and write `out` (JSONL) plus `out`.selection.json (ids chosen)."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    rows = normalise(name, read_source(source, split, DATASETS[name]))
    if n is not None and n > len(rows):
        raise InputError(f"{source}: -n {n} asks for more problems than it has ({len(rows)})")
    rows = subset(rows, n, seed)
    if not rows:
        raise InputError(f"{source}: no rows")
    write_jsonl(rows, out)
    write_json(
        {"dataset": name, "source": source, "split": split, "n": n, "seed": seed, "ids": [r["id"] for r in rows]},
        f"{out}.selection.json",
    )
    return rows
