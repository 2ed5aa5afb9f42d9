"""Hyperparameters picked on a validation split by one stated rule; the split never overlaps a test set."""

import json

import pytest

from o1pruner import runs
from o1pruner.cli import main
from o1pruner.io import InputError
from o1pruner.selection import check_disjoint, pick


def test_grid_points_are_methods_whose_names_say_their_values():
    variant = runs.grid_variant("o1_pruner", {"lambda": 2.0, "learning_rate": 5e-5, "samples_per_problem": 4})
    assert variant.name == "o1_pruner_m4_lam2_lr5em05"
    assert runs.method(variant.name) == variant  # parsed back from the name alone
    assert variant.reward == {"lambda": 2.0, "samples_per_problem": 4} and variant.grid["learning_rate"] == 5e-5
    assert runs.method("sft_lr0p0001_ep2").grid == {"learning_rate": 1e-4, "epochs": 2.0}
    assert runs.is_ablation(variant.name)  # a grid point is never a test-set row of its own
    with pytest.raises(runs.UnknownName):
        runs.method("spo_lr1em05")  # the base must be registered


def test_grid_points_that_differ_only_in_training_keys_share_one_training_set():
    """The learning rate and epochs do not change the data: such points train on their method's
    own training set; a point that sets a reward key has the training set of that reward."""
    from helpers import workflow_config

    assert runs.trainset_method(runs.method("sft_lr5em05")).name == "sft"
    assert runs.trainset_method(runs.method("kimi_lr0p0002_ep2")).name == "kimi"
    assert runs.trainset_method(runs.method("o1_pruner_m4_lam2_lr5em05")).name == "o1_pruner_m4_lam2"
    assert runs.trainset_method(runs.method("o1_pruner")).name == "o1_pruner"
    cfg = workflow_config()
    cfg["training"]["methods"] = ["sft"]
    cfg["ablations"] = {"lambdas": [], "difficulty": False}
    cfg["selection"] = {"methods": ["sft", "o1_pruner"], "grid": {"learning_rate": [1e-5, 1e-4], "lambda": [1.0]}}
    names = {m.name for m in runs.planned_methods(cfg)}
    assert {"sft", "o1_pruner_lam1"} <= names  # the shared training sets' methods are planned
    patterns = runs.method_wildcards(cfg)
    assert patterns["baseline_trainset"] == runs.wildcard_pattern(["sft"])
    assert patterns["harmonized"] == runs.wildcard_pattern(["o1_pruner_lam1"])


def test_grid_values_win_over_the_methods_overrides():
    from helpers import workflow_config

    from o1pruner import job_settings

    cfg = workflow_config()
    cfg["training"]["method_overrides"] = {"sft": {"learning_rate": 1.0, "epochs": 3}}
    settings = job_settings.training_settings(cfg, "sft_lr5em05")
    assert settings["learning_rate"] == 5e-5 and settings["epochs"] == 3


def _metrics(acc, tokens):
    return {"accuracy": acc, "mean_tokens": tokens}


def test_the_rule_picks_the_shortest_point_within_the_tolerance():
    reference = _metrics(90.0, 100.0)
    candidates = {"a-seed0": _metrics(89.5, 60.0), "b-seed0": _metrics(88.0, 40.0), "c-seed0": _metrics(91.0, 70.0)}
    grids = {"a-seed0": {"learning_rate": 1e-5}, "b-seed0": {"learning_rate": 1e-4}, "c-seed0": {"learning_rate": 3e-6}}
    result = pick(reference, candidates, grids, tolerance=1.0)
    # b is shorter still but 2 points below the reference: not eligible
    assert result["picked_run"] == "a-seed0" and result["picked"] == {"learning_rate": 1e-5}
    assert "2 of 3 grid points within 1 accuracy points" in result["reason"]
    assert [c["picked"] for c in result["candidates"]] == [True, False, False]
    # with a looser tolerance the shorter point is picked; with none within, the most accurate
    assert pick(reference, candidates, grids, tolerance=3.0)["picked_run"] == "b-seed0"
    far = {k: _metrics(v["accuracy"] - 10, v["mean_tokens"]) for k, v in candidates.items()}
    result = pick(reference, far, grids, tolerance=1.0)
    assert result["picked_run"] == "c-seed0" and result["reason"].startswith("no grid point within")


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    "row,expected",
    [
        (
            {"id": "t-1", "problem": "Something else.", "answer": "1"},
            "problem id 't-1' is also in the test set math500",
        ),
        (
            {"id": "v-9", "problem": "  what is 1+1? ", "answer": "2"},
            "problem 'v-9' has the text of 't-1' of the test set",
        ),
    ],
)
def test_a_validation_split_that_overlaps_a_test_set_is_refused(tmp_path, row, expected):
    test = _write(tmp_path / "test.jsonl", [{"id": "t-1", "problem": "What is 1+1?", "answer": "2"}])
    validation = _write(tmp_path / "validation.jsonl", [{"id": "v-1", "problem": "What is 2+2?", "answer": "4"}, row])
    out = tmp_path / "checked.jsonl"
    args = ["validation-split", "--validation", str(validation), "--test", f"math500={test}", "--out", str(out)]
    assert main(args) == 2 and not out.exists()
    with pytest.raises(InputError, match=f"{validation} line 2: {expected}"):
        check_disjoint([{"id": "v-1", "problem": "What is 2+2?"}, row], {"math500": [json.loads(test.read_text())]},
                       str(validation))  # fmt: skip
    # without the overlapping row the split passes and is written
    _write(validation, [{"id": "v-1", "problem": "What is 2+2?", "answer": "4"}])
    assert main(args) == 0 and out.exists()
