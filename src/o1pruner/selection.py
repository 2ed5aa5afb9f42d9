"""Hyperparameters picked on a validation split, never on the test sets.

Every grid point of a method (`selection.grid`; `runs.grid_variant`) is trained with the first
seed and evaluated greedily on the validation split, as is the reference. One stated rule picks a
point: **the fewest mean validation tokens among the points whose validation accuracy is within
`tolerance` points of the reference's**; where no point is, the most accurate one. Only the pick is
evaluated on the test sets (every seed). The validation split must share no problem with any test
set, by id or by text (whitespace and case aside).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .io import InputError, read_jsonl, write_json, write_jsonl


def _text_key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def check_disjoint(validation: list[dict], tests: dict[str, list[dict]], validation_path: str) -> None:
    """Refuse a validation split that shares a problem (id or text) with a test set."""
    for name, rows in tests.items():
        ids = {str(r["id"]) for r in rows}
        texts = {_text_key(r["problem"]): str(r["id"]) for r in rows}
        for line, r in enumerate(validation, start=1):
            if str(r["id"]) in ids:
                raise InputError(
                    f"{validation_path} line {line}: problem id {r['id']!r} is also in the test set {name}; "
                    "the validation split must not overlap the test split"
                )
            twin = texts.get(_text_key(r["problem"]))
            if twin is not None:
                raise InputError(
                    f"{validation_path} line {line}: problem {r['id']!r} has the text of {twin!r} of the test set "
                    f"{name}; the validation split must not overlap the test split"
                )


def checked_validation_split(*, validation_path: str, test_paths: dict[str, str], out: str) -> None:
    """The validation problems, written to `out` only once they are checked against the tests."""
    required = ("id", "problem", "answer")
    validation = read_jsonl(validation_path, required=required)
    tests = {name: read_jsonl(path, required=required) for name, path in test_paths.items()}
    check_disjoint(validation, tests, validation_path)
    write_jsonl(validation, out)


def pick(reference: dict, candidates: dict[str, dict], grids: dict[str, dict], tolerance: float) -> dict:
    """The rule applied to the validation metrics of the reference and of each grid point."""
    ref_acc, ref_tokens = reference["accuracy"], reference["mean_tokens"]
    rows = [
        {
            "run": run,
            **grids[run],
            "accuracy": m["accuracy"],
            "mean_tokens": m["mean_tokens"],
            "accuracy_change": m["accuracy"] - ref_acc,
            "token_ratio": m["mean_tokens"] / ref_tokens,
            "within_tolerance": m["accuracy"] >= ref_acc - tolerance,
        }
        for run, m in candidates.items()
    ]
    within = [r for r in rows if r["within_tolerance"]]
    if within:
        chosen = min(within, key=lambda r: (r["mean_tokens"], -r["accuracy"], r["run"]))
        reason = (
            f"the fewest mean validation tokens ({chosen['mean_tokens']:.1f}) among the {len(within)} of {len(rows)} "
            f"grid points within {tolerance:g} accuracy points of the reference ({ref_acc:.2f}%)"
        )
    else:
        chosen = max(rows, key=lambda r: (r["accuracy"], -r["mean_tokens"], r["run"]))
        reason = (
            f"no grid point within {tolerance:g} accuracy points of the reference ({ref_acc:.2f}%), so the most "
            f"accurate one ({chosen['accuracy']:.2f}%)"
        )
    for r in rows:
        r["picked"] = r["run"] == chosen["run"]
    return {
        "picked_run": chosen["run"],
        "picked": grids[chosen["run"]],
        "reason": reason,
        "rule": f"fewest mean tokens within {tolerance:g} accuracy points of the reference, else the most accurate",
        "reference": {"accuracy": ref_acc, "mean_tokens": ref_tokens},
        "candidates": rows,
    }


def pick_hyperparameters(
    *, method: str, reference_metrics: str, candidate_metrics: list[str], tolerance: float, out: str
) -> None:
    from .runs import method as registered_method
    from .runs import run_method

    def load(path):
        return json.loads(Path(path).read_text())

    candidates = {m["run"]: m for m in map(load, candidate_metrics)}
    grids = {run: registered_method(run_method(run)).grid for run in candidates}
    result = {"method": method, **pick(load(reference_metrics), candidates, grids, tolerance)}
    result["picked_method"] = run_method(result["picked_run"])
    write_json(result, out)
