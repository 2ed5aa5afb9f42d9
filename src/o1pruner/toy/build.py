"""Stage entry points of the toy world: problem splits and the reference model."""

from __future__ import annotations

from ..config.inputs import TOY_SETTINGS_FILE
from ..io import atomic_path, read_jsonl, write_json, write_jsonl
from ..settings import ToyDataSettings, ToyValidationSettings
from .pretrain import PretrainSettings, pretrain_reference
from .tasks import Level, generate_toy_splits, generate_toy_validation

PROBLEM_FIELDS = ("id", "problem", "answer", "level", "dataset")


def _levels(toy: dict) -> list[Level]:
    return [Level(lv["steps"], lv["max_value"]) for lv in toy["levels"]]


def write_toy_splits(*, settings: ToyDataSettings, train_path: str, test_path: str) -> None:
    levels = [Level(lv["steps"], lv["max_value"]) for lv in settings.levels]
    train, test = generate_toy_splits(settings.seed, settings.n_train, settings.n_test, levels)
    write_jsonl([{k: r[k] for k in PROBLEM_FIELDS} for r in train], train_path)
    write_jsonl([{k: r[k] for k in PROBLEM_FIELDS} for r in test], test_path)


def write_toy_validation(*, settings: ToyValidationSettings, train_path: str, test_path: str, out: str) -> None:
    """The validation split, apart from the train and test problems (by text; ids differ by split)."""
    levels = [Level(lv["steps"], lv["max_value"]) for lv in settings.levels]
    seen = {r["problem"] for path in (train_path, test_path) for r in read_jsonl(path, required=("problem",))}
    rows = generate_toy_validation(settings.seed, settings.n_validation, levels, seen)
    write_jsonl([{k: r[k] for k in PROBLEM_FIELDS} for r in rows], out)


def build_reference(*, settings: dict, test_path: str, out_dir: str, threads: int | None) -> None:
    """The toy reference, trained from `settings` ({"toy": ..., "prompt": ...}: the config's
    sections, checked by the schema; `PretrainSettings` types them below)."""
    toy, ref = settings["toy"], settings["toy"]["reference"]
    if toy["solution_style"] == "estimate_check" and len(toy["estimate_error"]) != len(toy["levels"]):
        raise ValueError(
            f"toy.estimate_error needs one value per level ({len(toy['levels'])}), got {toy['estimate_error']!r}"
        )
    s = PretrainSettings(
        seed=toy["seed"],
        long_thought_fraction=toy["long_thought_fraction"],
        check_prob=toy["check_prob"],
        solution_style=toy["solution_style"],
        estimate_error=tuple(toy["estimate_error"]),
        fast_prompt_fraction=toy["fast_prompt_fraction"],
        thinking=toy.get("thinking", False),  # left out of the settings when off (job_settings)
        vocab_size=ref["vocab_size"],
        hidden_size=ref["hidden_size"],
        num_layers=ref["num_layers"],
        num_heads=ref["num_heads"],
        num_kv_heads=ref["num_kv_heads"],
        intermediate_size=ref["intermediate_size"],
        steps=ref["steps"],
        batch_size=ref["batch_size"],
        lr=ref["learning_rate"],
        warmup_steps=ref["warmup_steps"],
    )
    exclude = {r["problem"] for r in read_jsonl(test_path, required=("problem",))}
    with atomic_path(out_dir, is_dir=True) as tmp:
        pretrain_reference(str(tmp), _levels(toy), exclude, settings["prompt"]["system"], s, threads)
        # What it was trained from, so a config with another toy world cannot overwrite it.
        write_json(settings, tmp / TOY_SETTINGS_FILE)
