"""Fixtures shared by the test modules: tiny random-init toy models and their data."""

import pytest
from helpers import o1_pruner_training_data, tiny_toy_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(model folder, problems.jsonl) of a tiny random-init toy model with 20 test problems."""
    model, problems, _ = tiny_toy_model(tmp_path_factory.mktemp("tiny-model"), 20)
    return model, problems


@pytest.fixture(scope="session")
def training_data(tmp_path_factory):
    """`training_data(n_rows)`: a tiny model with an O1-Pruner training set and DPO pairs of
    n_rows problems (made once per size)."""
    made = {}

    def make(n_rows: int):
        if n_rows not in made:
            made[n_rows] = o1_pruner_training_data(tmp_path_factory.mktemp(f"training-{n_rows}"), n_rows)
        return made[n_rows]

    return make
