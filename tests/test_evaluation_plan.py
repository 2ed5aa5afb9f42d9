"""A run's evaluation job decodes every test set and mode with the model loaded once (`o1pruner
evaluate --plan`): each decoding gets exactly the settings, and gives exactly the responses, of
a job of its own."""

import json

import pandas as pd
import pytest
from helpers import evaluation_settings, tiny_toy_model, workflow_config

from o1pruner import job_settings
from o1pruner.cli import main
from o1pruner.evaluation import decodings_from_args
from o1pruner.io import InputError
from o1pruner.settings import EvaluationSettings

MODES = [("toy", "a.jsonl", "greedy"), ("toy", "a.jsonl", "sampled"), ("toy", "a.jsonl", "budgets")]


def test_a_plan_gives_each_decoding_the_settings_of_its_own_job():
    config = workflow_config()
    sampled, budgets = {"toy": 3}, [16, 32]
    plan = json.loads(json.dumps(job_settings.evaluation_plan(config, "o1_pruner-seed0", MODES, sampled, budgets)))
    decodings = decodings_from_args(None, None, plan)
    alone = [
        job_settings.evaluation_settings(config, "o1_pruner-seed0", "toy"),
        job_settings.evaluation_settings(config, "o1_pruner-seed0", "toy", samples_per_problem=3),
        job_settings.evaluation_settings(config, "o1_pruner-seed0", "toy", budgets=budgets),
    ]
    assert [p for p, _ in decodings] == ["a.jsonl"] * 3
    assert [s for _, s in decodings] == [EvaluationSettings.from_json(s) for s in alone]
    # what differs between the decodings is sent with each, the rest once
    assert "do_sample" not in plan["common"] and "budget_forcing" in plan["decodings"][2]["settings"]
    assert "budget_forcing" not in plan["decodings"][0]["settings"] and "backend" in plan["common"]


def test_a_setting_is_shared_only_where_every_decoding_has_the_same_value_and_type(monkeypatch):
    """1 and 1.0 are equal in Python; the shared settings must not turn one decoding's into the other's."""
    values = iter([{"temperature": 1, "top_p": 0.95}, {"temperature": 1.0, "top_p": 0.95}])
    monkeypatch.setattr(job_settings, "evaluation_settings", lambda *a, **k: next(values))
    plan = job_settings.evaluation_plan({}, "run", MODES[:2], {"toy": 2}, [])
    assert plan["common"] == {"top_p": 0.95}
    assert [type(d["settings"]["temperature"]) for d in plan["decodings"]] == [int, float]


def test_one_job_per_run_decodes_as_one_job_per_decoding(tmp_path):
    """Greedy and sampled decodings of two problem files in one `--plan` job give the responses
    and metrics of four separate jobs (budget-forced ones: tests/test_thinking.py)."""
    model, problems, _ = tiny_toy_model(tmp_path, n_problems=6)
    other = tmp_path / "other.jsonl"
    other.write_text("".join(reversed(problems.read_text().splitlines(keepends=True))))
    common = dict(max_new_tokens=16, batch_size=4, thinking_end=None)
    decodings = [
        (problems, json.loads(evaluation_settings(**common))),
        (problems, json.loads(evaluation_settings(**common, do_sample=True, num_samples=3, pass_k=[1, 3]))),
        (other, json.loads(evaluation_settings(**common, do_sample=True, num_samples=2, pass_k=[1], seed=5))),
        (other, json.loads(evaluation_settings(**common))),
    ]
    alone = []
    for i, (path, settings) in enumerate(decodings):
        out = tmp_path / f"alone{i}"
        args = ["evaluate", "--model", str(model), "--problems", str(path), "--settings", json.dumps(settings)]
        assert main([*args, "--run", "r", "--out", f"{out}.parquet", "--metrics", f"{out}.json"]) == 0
        alone.append(out)
    plan = {"common": {}, "decodings": [{"problems": str(p), "settings": s} for p, s in decodings]}
    together = [tmp_path / f"together{i}" for i in range(len(decodings))]
    args = ["evaluate", "--model", str(model), "--plan", json.dumps(plan), "--run", "r"]
    args += ["--out", *(f"{t}.parquet" for t in together), "--metrics", *(f"{t}.json" for t in together)]
    assert main(args) == 0
    for a, t in zip(alone, together):
        left, right = pd.read_parquet(f"{a}.parquet"), pd.read_parquet(f"{t}.parquet")
        pd.testing.assert_frame_equal(left.drop(columns=["wall_time_s"], errors="ignore"),
                                      right.drop(columns=["wall_time_s"], errors="ignore"))  # fmt: skip
        ma, mt = (json.loads(open(f"{x}.json").read()) for x in (a, t))
        assert ma.pop("wall_time_s") > 0 and mt.pop("wall_time_s") > 0 and ma == mt


def test_a_plan_whose_decodings_need_two_engines_is_refused(tmp_path, capsys):
    model, problems, _ = tiny_toy_model(tmp_path, n_problems=2)
    settings = json.loads(evaluation_settings(max_new_tokens=8, thinking_end=None))
    two = [{"problems": str(problems), "settings": {}}, {"problems": str(problems), "settings": {"dtype": "bfloat16"}}]
    plan = {"common": settings, "decodings": two}
    out = ["--run", "r", "--out", str(tmp_path / "a"), str(tmp_path / "b"), "--metrics", "c", "d"]
    assert main(["evaluate", "--model", str(model), "--plan", json.dumps(plan), *out]) != 0
    assert "needs another engine (dtype)" in capsys.readouterr().err
    assert not list(tmp_path.glob("[ab]"))
    assert main(["evaluate", "--model", str(model), "--problems", str(problems), *out]) != 0
    assert "give --problems and --settings (one decoding), or --plan" in capsys.readouterr().err
    both = ["--problems", str(problems), "--plan", json.dumps(plan), *out]
    assert main(["evaluate", "--model", str(model), *both]) != 0
    assert "give --problems and --settings (one decoding), or --plan" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", str(model), "--plan", "{not json", *out])
    assert "argument --plan: not valid JSON (Expecting property name" in capsys.readouterr().err
    with pytest.raises(InputError, match="needs common and decodings"):
        decodings_from_args(None, None, {"decodings": []})
