"""Trainers by name: each is one entry beside its code (`o1_pruner.py`, `trl_baselines.py`,
`grpo.py`): how to build its config class from the shared `TrainingArguments` fields, and how to
train from a `TrainJob`. `stages.finetune` looks a trainer up here and nothing else; a new
trainer is one `register_trainer` call plus its module (and a method in `runs.py` that names it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import pandas as pd

from .. import runs
from ..io import InputError


@dataclass(frozen=True)
class TrainJob:
    """What a trainer trains from: the model and tokenizer, its training set (the frame and the
    file it came from), the problems file, the method's settings, its config object, and the
    checkpoint folder it will be saved to."""

    model: Any
    tokenizer: Any
    trainset: pd.DataFrame
    trainset_path: str
    problems_path: str
    settings: Any  # settings.TrainingSettings
    args: Any  # the trainer's config object, from `arguments`
    out: str


@dataclass(frozen=True)
class TrainerEntry:
    name: str
    data: tuple  # the training data kinds it takes (`runs.DATA_RULES`' keys)
    # (the shared TrainingArguments fields, the method's TrainingSettings) -> its config object
    arguments: Callable[[dict, Any], Any]
    # TrainJob -> (the transformers/TRL trainer, its train() result)
    train: Callable[[TrainJob], tuple[Any, Any]]


TRAINERS: dict[str, TrainerEntry] = {}
# The modules whose import registers the built-in trainers.
BUILT_IN = (".o1_pruner", ".trl_baselines", ".grpo")


def register_trainer(trainer: TrainerEntry) -> TrainerEntry:
    """Add a trainer; its name becomes one a method may name (`runs.TRAINER_DATA`)."""
    unknown = [d for d in trainer.data if d not in runs.DATA_RULES]
    if unknown:
        raise ValueError(f"trainer {trainer.name}: data {unknown[0]!r} is not one of {tuple(runs.DATA_RULES)}")
    TRAINERS[trainer.name] = trainer
    runs.TRAINER_DATA.setdefault(trainer.name, tuple(trainer.data))
    return trainer


def trainer(name: str) -> TrainerEntry:
    for module in BUILT_IN:
        import_module(module, __package__)
    if name not in TRAINERS:
        raise InputError(f"unknown trainer {name!r} (registered: {', '.join(TRAINERS)})")
    return TRAINERS[name]
