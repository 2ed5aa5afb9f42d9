"""The registry of methods and runs (src/o1pruner/runs.py) and the job settings built from it."""

import pytest
from helpers import REPO, workflow_config

from o1pruner import job_settings, runs
from o1pruner.settings import (
    BaselineTrainsetSettings,
    DrawSettings,
    EvaluationSettings,
    LogprobSettings,
    PresampleSettings,
    RewardSettings,
    ToyDataSettings,
    TrainingSettings,
)


def test_variant_names_round_trip():
    for value in (0.0, 0.5, 1.0, 5.0, 10.0):
        m = runs.lambda_variant(value)
        assert runs.method(m.name) == m and m.reward == {"lambda": value} and m.ablation == "lambda"
    assert runs.method("o1_pruner_hard").reward == {"difficulty_band": [0.0, 0.4]}
    assert runs.split_run("o1_pruner_lambda0p5-seed3") == ("o1_pruner_lambda0p5", 3)
    assert runs.split_run("reference") == ("reference", None)
    assert runs.label("o1_pruner_lambda0p5") == "O1-Pruner (λ=0.5)" and runs.label("reference") == "Reference"
    with pytest.raises(runs.UnknownName, match="'spo' is not a registered method"):
        runs.method("spo")


def test_a_lambda_ablation_at_the_main_lambda_is_the_main_run():
    cfg = workflow_config()
    cfg["ablations"] = {"lambdas": [cfg["reward"]["lambda"], 0.0], "difficulty": True}
    names = [m.name for m in runs.trained_methods(cfg)]
    assert names == [
        *cfg["training"]["methods"],
        "o1_pruner_lambda0",
        "o1_pruner_hard",
        "o1_pruner_mid",
        "o1_pruner_easy",
    ]
    # one seed for ablations, every seed for the configured methods
    assert runs.trained_runs(cfg).count("o1_pruner_lambda0-seed0") == 1
    assert len([r for r in runs.trained_runs(cfg) if r.startswith("sft-")]) == len(cfg["training"]["seeds"])


def test_lambda_variants_share_one_draw_and_bands_have_their_own():
    cfg = workflow_config()
    draws = {m: runs.draw_name(runs.method(m), cfg) for m in ("o1_pruner", "o1_pruner_lambda0", "o1_pruner_lambda5")}
    assert len(set(draws.values())) == 1
    assert runs.draw_name(runs.method("o1_pruner_hard"), cfg) not in draws.values()
    cfg["reward"]["seed"] = 7
    assert runs.draw_name(runs.method("o1_pruner"), cfg) != draws["o1_pruner"]


def test_registering_a_taken_name_or_a_bad_entry_fails():
    with pytest.raises(ValueError, match="already registered"):
        runs.register(runs.Method("sft", "SFT", trainer="sft", data="shortest_correct"))
    with pytest.raises(ValueError, match="trainer 'ppo'"):
        runs.Method("x", "X", trainer="ppo", data="shortest_correct")


@pytest.mark.parametrize("files", [(), ("config/vllm.yaml",)])
def test_every_job_gets_complete_typed_settings(files):
    """The settings the rules build from a config fill every stage's dataclass exactly (no key
    missing, none unknown): the settings dataclasses and the schema cannot drift apart."""
    cfg = workflow_config(*(REPO / f for f in files))
    cfg["ablations"] = {"lambdas": [0.0], "difficulty": True}
    ToyDataSettings.from_json(job_settings.toy_data_settings(cfg))
    PresampleSettings.from_json(job_settings.presample_settings(cfg))
    LogprobSettings.from_json(job_settings.logprob_settings(cfg))
    for run in runs.all_runs(cfg):
        dataset = cfg["datasets"]["test"][0]
        EvaluationSettings.from_json(job_settings.evaluation_settings(cfg, run, dataset))
        sampled = EvaluationSettings.from_json(job_settings.evaluation_settings(cfg, run, dataset, 4))
        assert sampled.do_sample and sampled.num_samples == 4
        forced = EvaluationSettings.from_json(job_settings.evaluation_settings(cfg, run, dataset, budgets=[16]))
        assert forced.budget_forcing.budgets == [16] and not forced.do_sample
    for m in runs.trained_methods(cfg):
        settings = TrainingSettings.from_json(job_settings.training_settings(cfg, m.name))
        assert (settings.dpo_beta is not None) == (m.trainer == "dpo")
        if m.data == "length_harmonizing":
            DrawSettings.from_json(job_settings.draw_settings(cfg, m.name))
            RewardSettings.from_json(job_settings.reward_settings(cfg, m.name))
        else:
            BaselineTrainsetSettings.from_json(job_settings.baseline_trainset_settings(cfg, m.name))


def test_the_report_writes_exactly_the_tables_the_rule_declares():
    import dataclasses

    from o1pruner.report import outputs
    from o1pruner.report.summary import ReportTables

    fields = [f.name for f in dataclasses.fields(ReportTables)]
    optional = [*outputs.SAMPLED_TABLES, *outputs.THINKING_TABLES, *outputs.BUDGET_TABLES, *outputs.SELECTION_TABLES]
    optional += [*outputs.STYLE_TABLES, *outputs.LEDGER_TABLES]
    assert fields == [*outputs.TABLES, *optional]


def test_token_caps_per_test_set():
    cfg = workflow_config()
    cfg["datasets"]["test"] = ["toy", "aime24"]
    cfg["evaluation"]["max_new_tokens"] = {"default": 64, "aime24": 128}
    caps = {d: job_settings.evaluation_settings(cfg, "reference", d)["max_new_tokens"] for d in ("toy", "aime24")}
    assert caps == {"toy": 64, "aime24": 128}
    cfg["evaluation"]["max_new_tokens"] = 48
    assert job_settings.evaluation_settings(cfg, "reference", "aime24")["max_new_tokens"] == 48


def test_a_method_entry_names_data_and_trainer_that_fit():
    """The registry refuses entries whose parts do not go together, before any rule sees them."""
    with pytest.raises(ValueError, match="takes"):
        runs.Method("x", "X", trainer="sft", data="budget_pairs")
    with pytest.raises(ValueError, match="objective"):
        runs.Method("x", "X", trainer="grpo", data="reference_prompts")
    with pytest.raises(ValueError, match="objective"):
        runs.Method("x", "X", trainer="simpo", data="budget_pairs", objective="kimi")
    m = runs.Method("x", "X", trainer="grpo", data="reference_prompts", objective="kimi")
    assert runs.DATA_RULES[m.data] == "prompts"


def test_every_kind_of_training_data_and_objective_has_its_implementation():
    from o1pruner.baseline_data import BUILDERS
    from o1pruner.length_rewards import OBJECTIVES

    assert set(BUILDERS) == {d for d, rule in runs.DATA_RULES.items() if rule == "baseline_trainset"}
    assert set(OBJECTIVES) == set(runs.OBJECTIVES)


def test_the_papers_o1_pruner_takes_every_sample_the_raw_reward_and_the_sequence_ratio():
    from o1pruner import job_settings
    from o1pruner.config.load import load_config

    config = load_config("config/config.yaml")
    config["training"]["methods"] = ["o1_pruner", "o1_pruner_paper"]
    paper = runs.method("o1_pruner_paper")
    assert job_settings.draw_settings(config, "o1_pruner_paper")["samples_per_problem"] == config["sampling"]["k"]
    assert runs.draw_name(paper, config).startswith(f"m{config['sampling']['k']}-")
    reward = job_settings.reward_settings(config, "o1_pruner_paper")
    assert reward["reward_clip"] is None and reward["normalize"] == "none"
    assert job_settings.training_settings(config, "o1_pruner_paper")["o1_pruner_ratio"] == "sequence"
    # the released form's settings carry no ratio key: its jobs' params are as they were
    assert "o1_pruner_ratio" not in job_settings.training_settings(config, "o1_pruner")


def test_every_trainer_a_method_can_name_has_its_code_registered():
    """runs.TRAINER_DATA (read while Snakemake plans, no torch) and train/registry.py (the code)
    name the same trainers with the same data."""
    from o1pruner.train import registry

    registry.trainer("o1_pruner")  # imports the built-in trainers' modules
    assert {name: entry.data for name, entry in registry.TRAINERS.items()} == dict(runs.TRAINER_DATA)
