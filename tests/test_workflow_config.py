"""The config checks that run when Snakemake plans the workflow (no Snakemake needed here)."""

import json
import re
from pathlib import Path

import pytest
import yaml

from o1pruner import job_settings
from o1pruner.config.checks import check_online_methods, check_rounds
from o1pruner.config.inputs import TOY_SETTINGS_FILE, check_model_path, check_toy_reference
from o1pruner.config.load import (
    ConfigError,
    check_config,
    coerce_cli_values,
    load_config,
    load_schema,
    with_defaults,
)
from o1pruner.launch import is_dry_run

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(REPO / "config" / "schema.yaml")


def config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_cli_strings_become_the_schema_types():
    cfg = config()
    cfg["reward"] = {"lambda": "3.0", "samples_per_problem": "4", "reward_clip": ["-1", "2.5"]}
    cfg["training"] = {"bf16": "true", "seeds": ["0", "1"], "learning_rate": "1e-5", "trainable_last_layers": "null"}
    cfg["prompt"] = {"system": "12"}  # a string in the schema stays a string
    out = coerce_cli_values(cfg, SCHEMA)
    assert out["reward"] == {"lambda": 3.0, "samples_per_problem": 4, "reward_clip": [-1, 2.5]}
    assert out["training"] == {"bf16": True, "seeds": [0, 1], "learning_rate": 1e-5, "trainable_last_layers": None}
    assert out["prompt"]["system"] == "12"
    check_config(out, SCHEMA)


def test_a_string_that_is_no_number_stays_and_fails_by_name():
    cfg = config()
    cfg["sampling"]["temperature"] = "hot"
    with pytest.raises(ConfigError, match=r"^config key sampling.temperature: 'hot' is not of type 'number'$"):
        check_config(coerce_cli_values(cfg, SCHEMA), SCHEMA)


def test_unknown_and_missing_keys():
    cfg = config()
    cfg["rewrd"] = {}
    with pytest.raises(ConfigError, match=r"config key rewrd is not a known key \(did you mean reward\?\)"):
        check_config(cfg, SCHEMA)
    cfg = config()
    del cfg["model"]["name"]
    with pytest.raises(ConfigError, match=r"^config key model.name is missing$"):
        check_config(cfg, SCHEMA)


def test_local_model_paths(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        check_model_path(str(tmp_path / "none"))
    (tmp_path / "m").mkdir()
    with pytest.raises(ConfigError, match="without config.json"):
        check_model_path(str(tmp_path / "m"))
    (tmp_path / "m" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="no tokenizer files"):
        check_model_path(str(tmp_path / "m"))
    (tmp_path / "m" / "tokenizer.json").write_text("{}")
    assert check_model_path(str(tmp_path / "m")) is None


def test_hub_ids_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match=r"'org/no-such-model' is not a local folder .* HF_HUB_OFFLINE is set"):
        check_model_path("org/no-such-model")
    assert "dry run" in check_model_path("org/no-such-model", dry_run=True)


def test_dry_run_flags():
    assert is_dry_run(["snakemake", "-n"]) and is_dry_run(["snakemake", "-np"]) and is_dry_run(["x", "--dry-run"])
    assert not is_dry_run(["snakemake", "--cores", "all", "--configfile", "config/smoke.yaml"])


def test_a_toy_reference_from_another_toy_world_is_not_overwritten(tmp_path):
    cfg = config()
    cfg["model"]["path"] = str(tmp_path / "ref")
    check_toy_reference(cfg)  # nothing trained yet
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / TOY_SETTINGS_FILE).write_text(json.dumps(job_settings.toy_reference_settings(cfg)))
    check_toy_reference(cfg)  # the same toy world
    cfg["toy"]["n_train"] = 48
    with pytest.raises(ConfigError, match=r"trained from another toy config \(different toy.n_train\)"):
        check_toy_reference(cfg)


def test_method_overrides_name_training_keys():
    cfg = config()
    cfg["training"]["method_overrides"] = {"sft": {"learning_rate": 1e-6, "epoch": 2}}
    with pytest.raises(ConfigError, match=r"config key training.method_overrides.sft.epoch is not a training key"):
        check_config(cfg, SCHEMA)


def test_paper_configs_carry_the_released_settings():
    for name, sft_lr, dpo_lr in (("paper_marco_o1.yaml", 1e-6, 5e-8), ("paper_qwq.yaml", 5e-6, 2e-7)):
        cfg = yaml.safe_load((REPO / "config" / name).read_text())
        t = cfg["training"]
        assert t["max_grad_norm"] == 10 and t["gradient_checkpointing"] and t["distributed"] == "zero3"
        assert t["global_batch_size"] == 32 and "gradient_accumulation_steps" not in t
        assert t["method_overrides"]["sft"]["learning_rate"] == sft_lr
        assert t["method_overrides"]["dpo"]["learning_rate"] == dpo_lr
        check_config(cfg, SCHEMA)


def test_train_launcher_follows_processes_sharding_and_precision():
    from o1pruner.launch import train_launcher_command

    base = {"cpu_processes": 1, "distributed": "zero3", "bf16": True, "pure_bf16": False, "method_overrides": {}}
    accel = Path("/repo/config/accelerate")
    assert train_launcher_command(base, 0, accel) == "o1pruner"
    assert train_launcher_command(base, 1, accel) == "o1pruner"
    assert train_launcher_command(base, 8, accel) == (
        "accelerate launch --config_file /repo/config/accelerate/zero3.yaml --num_processes 8 "
        "--main_process_port 0 --mixed_precision bf16 -m o1pruner.cli"
    )
    cpu_ddp = {**base, "cpu_processes": 2, "distributed": "ddp"}
    assert train_launcher_command(cpu_ddp, 0, accel) == "torchrun --standalone --nproc-per-node 2 -m o1pruner.cli"
    # a method that turns bf16 off gets no mixed precision from the launcher either (the rule
    # passes the training section as that method trains with it)
    from o1pruner.job_settings import method_training

    cfg = config()
    cfg["training"].update(cpu_processes=2, distributed="zero3", bf16=True, method_overrides={"dpo": {"bf16": False}})
    cfg["ablations"] = {"lambdas": [0.0]}
    cfg = with_defaults(cfg, SCHEMA)
    expected = {"dpo": "no", "sft": "bf16", "o1_pruner": "bf16"}
    for method, mixed in expected.items():
        command = train_launcher_command(method_training(cfg, method), 0, accel)
        assert f"--num_processes 2 --main_process_port 0 --mixed_precision {mixed} " in command, method
    # an ablation variant trains with the overrides of the method it varies
    cfg["training"]["method_overrides"] = {"o1_pruner": {"bf16": False}}
    assert "--mixed_precision no " in train_launcher_command(method_training(cfg, "o1_pruner_lambda0"), 0, accel)


def test_grpo_with_vllm_rollouts_launches_from_the_vllm_environment(tmp_path, monkeypatch):
    """Only a GRPO method whose rollouts are vLLM's runs the vLLM environment's launcher; under
    --use-conda the rule's env (envs/vllm.yaml) provides it; a missing environment is the config
    error that names the key, a warning on a dry run."""
    from o1pruner.config.load import ConfigError
    from o1pruner.job_settings import method_training, training_settings
    from o1pruner.launch import rollout_tools, train_launcher_command

    venv = tmp_path / "venv-vllm"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "o1pruner").touch()
    cfg = config()
    cfg["training"]["methods"] = ["sft", "shorter_better", "kimi"]
    cfg["training"]["method_overrides"] = {"shorter_better": {"grpo": {"rollouts": "vllm"}}}
    cfg["vllm"] = {"venv": str(venv)}
    cfg = with_defaults(cfg, SCHEMA)
    accel = Path("/repo/config/accelerate")
    tools = {m: rollout_tools(cfg, method_training(cfg, m), trainer, False, tmp_path)
             for m, trainer in (("sft", "sft"), ("shorter_better", "grpo"), ("kimi", "grpo"))}  # fmt: skip
    assert tools == {"sft": "", "shorter_better": f"{venv}/bin/", "kimi": ""}
    # inside the working directory: relative, so a moved checkout reruns nothing
    monkeypatch.chdir(tmp_path)
    assert rollout_tools(cfg, method_training(cfg, "shorter_better"), "grpo", False, tmp_path) == "venv-vllm/bin/"
    assert rollout_tools(cfg, method_training(cfg, "shorter_better"), "grpo", True, tmp_path) == ""
    training = {**method_training(cfg, "shorter_better"), "cpu_processes": 2, "distributed": "ddp"}
    assert train_launcher_command(training, 0, accel, f"{venv}/bin/") == (
        f"{venv}/bin/torchrun --standalone --nproc-per-node 2 -m o1pruner.cli"
    )
    # the engine settings reach the job only where vLLM generates (the others' settings, and so
    # their jobs, stay as they were)
    assert training_settings(cfg, "shorter_better")["grpo"]["vllm_rollouts"] == {
        "gpu_memory_utilization": 0.3, "cpu_kv_cache_gib": 1, "max_model_len": None,
    }  # fmt: skip
    assert "vllm_rollouts" not in training_settings(cfg, "kimi")["grpo"]
    cfg["vllm"]["venv"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="config key training.grpo.rollouts: vllm needs the vLLM environment"):
        rollout_tools(cfg, method_training(cfg, "shorter_better"), "grpo", False, tmp_path)


def test_grpo_config_asks_trl_for_colocated_vllm_only_with_vllm_rollouts():
    from o1pruner.train.vllm_rollouts import vllm_arguments

    assert vllm_arguments(None) == {}
    args = vllm_arguments({"gpu_memory_utilization": 0.25, "cpu_kv_cache_gib": 1, "max_model_len": None})
    assert args == {"use_vllm": True, "vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.25,
                    "vllm_enable_sleep_mode": False}  # fmt: skip


def test_zero_without_deepspeed_installed_is_a_config_error(monkeypatch):
    import importlib.util

    from snakemake.utils import validate

    from o1pruner.config.checks import check_training_layout

    cfg = config()
    cfg["training"].update(cpu_processes=2, distributed="zero3", per_device_batch_size=4, global_batch_size=8)
    validate(cfg, str(REPO / "config" / "schema.yaml"))  # fills in the schema's defaults
    check_training_layout(cfg)  # installed here
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "deepspeed" else real_find_spec(name))
    with pytest.raises(ConfigError, match=r"^config key training.distributed: zero3 needs DeepSpeed, which is not"):
        check_training_layout(cfg)


@pytest.mark.parametrize(
    "training,expected",
    [
        (
            {"methods": ["thinkprune"], "method_overrides": {"thinkprune": {"grpo": {"generations": 1}}}},
            "config key training.grpo.generations: method thinkprune is trained with GRPO, whose advantage is "
            "relative to the group of responses to one prompt: at least 2 (got 1)",
        ),
        (
            {"methods": ["shorter_better"], "method_overrides": {"shorter_better": {"grpo": {"generations": 3}}}},
            "config key training.global_batch_size: 16 rollouts per step is not a multiple of "
            "training.grpo.generations 3 (method shorter_better: whole groups per step)",
        ),
        (
            {"methods": ["thinkprune"], "method_overrides": {"thinkprune": {"grpo": {"cap": 48}}}},
            "config key training.method_overrides.thinkprune.grpo.cap is not a grpo key",
        ),
    ],
)
def test_online_methods_need_whole_groups(tmp_path, training, expected):
    """The on-policy methods' layout (the group-of-one case runs through Snakemake in test_errors)."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"training": training}))
    config = load_config(REPO / "config" / "config.yaml", path)
    with pytest.raises(ConfigError) as e:
        check_online_methods(config, SCHEMA)
    assert str(e.value) == expected
    # the same methods with groups of 8 and 16 rollouts per step are fine
    path.write_text(yaml.safe_dump({"training": {"methods": training["methods"]}}))
    check_online_methods(load_config(REPO / "config" / "config.yaml", path), SCHEMA)


@pytest.mark.parametrize(
    "rounds,expected",
    [
        ({"dpo": {"n": 2}}, "config key rounds.dpo: round 2 starts from round 1's checkpoint, but dpo is not in "
                            "training.methods"),
        ({"sft": {"n": 2}}, "config key rounds.sft: rounds exist for methods that learn from their own samples"),
        ({"o1_pruner": {"n": 2}}, "config key rounds.o1_pruner: give statistics: previous"),
        ({"o1_pruner": {"statistics": "previous"}}, "config key rounds.o1_pruner: give n"),
        ({"thinkprune": {"n": 3}}, "config key rounds.thinkprune: give hard_cap_tokens, one cap per round"),
        ({"thinkprune": {"n": 3, "hard_cap_tokens": [64, 48]}}, "config key rounds.thinkprune: n is 3 but "
                                                               "hard_cap_tokens has 2 caps"),
        ({"o1_pruner": {"n": 2, "statistics": "previous", "hard_cap_tokens": [64, 48]}},
         "config key rounds.o1_pruner.hard_cap_tokens: only ThinkPrune-style methods"),
    ],
)  # fmt: skip
def test_rounds_say_what_they_need(tmp_path, rounds, expected):
    path = tmp_path / "config.yaml"
    overlay = {
        "training": {"methods": ["o1_pruner", "sft", "thinkprune"]},
        "selection": {"methods": []},
        "rounds": rounds,
    }
    path.write_text(yaml.safe_dump(overlay))
    with pytest.raises(ConfigError, match=re.escape(expected)):
        check_rounds(load_config(REPO / "config" / "config.yaml", path))


def test_rounds_of_a_method_whose_hyperparameters_are_picked_are_refused(tmp_path):
    """Round 2 would start from the method's unpicked settings (the default config picks
    O1-Pruner's): refused before any job, with the two-step way round it."""
    path = tmp_path / "config.yaml"
    overlay = {"training": {"methods": ["o1_pruner"]}, "rounds": {"o1_pruner": {"n": 2, "statistics": "previous"}}}
    path.write_text(yaml.safe_dump(overlay))
    with pytest.raises(
        ConfigError, match=re.escape("config key rounds.o1_pruner: o1_pruner is also in selection.methods")
    ):
        check_rounds(load_config(REPO / "config" / "config.yaml", path))


def test_rounds_are_methods_that_start_from_the_round_before(tmp_path):
    from o1pruner import runs

    overlay = {"training": {"methods": ["o1_pruner", "thinkprune"]}, "selection": {"methods": []},
                   "rounds": {"o1_pruner": {"n": 3, "statistics": "reference"},
                              "thinkprune": {"hard_cap_tokens": [64, 48, 32]}}}  # fmt: skip
    (tmp_path / "rounds.yaml").write_text(yaml.safe_dump(overlay))
    config = load_config(REPO / "config" / "config.yaml", tmp_path / "rounds.yaml")
    check_rounds(config)
    names = [m.name for m in runs.round_methods(config)]
    assert names == ["o1_pruner_r2", "o1_pruner_r3", "thinkprune_r2", "thinkprune_r3"]
    assert runs.previous_round(runs.method("o1_pruner_r3")) == "o1_pruner_r2"
    assert runs.previous_round(runs.method("thinkprune_r2")) == "thinkprune"
    assert runs.resampled(runs.method("o1_pruner_r2")) and not runs.resampled(runs.method("thinkprune_r2"))
    caps = [job_settings.training_settings(config, n)["grpo"]["objective_settings"]["cap_tokens"]
            for n in ("thinkprune", "thinkprune_r2", "thinkprune_r3")]  # fmt: skip
    assert caps == [64, 48, 32]
    assert not runs.is_ablation("o1_pruner_r2")  # a round is a row of the main table


def test_a_key_that_takes_a_number_or_a_mapping_converts_either():
    """`--config evaluation='{max_new_tokens: 48}'`: Snakemake hands over '48'; the key's schema
    is oneOf(integer, per-set mapping), which the conversion used to leave as a string."""
    cfg = coerce_cli_values({"evaluation": {"max_new_tokens": "48"}}, SCHEMA)
    assert cfg["evaluation"]["max_new_tokens"] == 48
    per_set = coerce_cli_values({"evaluation": {"max_new_tokens": {"default": "48", "gsm8k": "16"}}}, SCHEMA)
    assert per_set["evaluation"]["max_new_tokens"] == {"default": 48, "gsm8k": 16}
    config = load_config(REPO / "config" / "smoke.yaml", overrides={"reward": {"lambda": "3"}})
    assert config["reward"]["lambda"] == 3.0 and isinstance(config["reward"]["lambda"], float | int)


def test_a_missing_local_data_file_is_named_by_its_key(tmp_path, monkeypatch):
    from o1pruner.config.inputs import check_data_sources

    monkeypatch.chdir(REPO)
    config = load_config(REPO / "config" / "toy_real_data.yaml")
    check_data_sources(config)  # the files exist beside the checkout
    config["datasets"]["sources"]["gsm8k"]["test"]["source"] = "../shared/data/gsm8k/tset.jsonl"
    with pytest.raises(ConfigError, match=r"datasets\.sources\.gsm8k\.test\.source: \.\./shared/data/gsm8k/tset"):
        check_data_sources(config)
    config["datasets"]["sources"]["gsm8k"]["test"]["source"] = "openai/gsm8k"  # a hub id: the job reads it
    check_data_sources(config)


def test_a_profile_placeholder_is_named_by_its_key():
    from types import SimpleNamespace

    from o1pruner.config.checks import check_profile_placeholders

    raw = SimpleNamespace
    argv = ["snakemake", "--profile", "profiles/slurm"]
    check_profile_placeholders({"mem_mb": raw(raw=4000)}, {"finetune": {"slurm_partition": raw(raw="gpu")}}, argv)
    with pytest.raises(ConfigError, match=r"set-resources\.finetune\.slurm_partition is still the placeholder "
                       r"'<gpu-partition>' in profiles/slurm/config\.yaml"):  # fmt: skip
        check_profile_placeholders({}, {"finetune": {"slurm_partition": raw(raw="<gpu-partition>")}}, argv)
    with pytest.raises(ConfigError, match=r"default-resources\.slurm_partition"):
        check_profile_placeholders({"slurm_partition": raw(raw=" <cpu-partition> ")}, {}, argv)


# What in a rule's body means it loads the model to generate, score or train (on a GPU in a real run).
MODEL_RULE_MARKERS = ("SAMPLING_CLI", "EVAL_CLI", "train_launcher")


def _rule_bodies() -> dict[str, str]:
    """Each rule of rules/*.smk (`rule NAME:` and `use rule X as NAME with:`) and its text."""
    bodies = {}
    for path in sorted((REPO / "rules").glob("*.smk")):
        parts = re.split(r"^\s*(?:rule (\w+):|use rule \w+ as (\w+) with:)", path.read_text(), flags=re.M)
        for i in range(1, len(parts) - 2, 3):
            bodies[parts[i] or parts[i + 1]] = parts[i + 2]
    return bodies


def test_every_rule_that_loads_a_model_gets_its_gpus_from_the_config_and_the_gpu_partition():
    """A rule that generates, scores or trains with the model declares its `gpu` resource from the
    config (sampling.gpus_per_shard, training.gpus), so one machine's `--resources gpu=N` and SLURM
    see the same count; profiles/slurm/config.yaml sends it to the GPU partition and does not
    override that count (it once gave QwQ's tensor-parallel-2 vLLM jobs 1 GPU, and the sampled and
    budget-forced evaluations, O1-Pruner's rounds and the validation evaluation no GPU at all)."""
    bodies = _rule_bodies()
    model_rules = {name for name, body in bodies.items() if any(m in body for m in MODEL_RULE_MARKERS)}
    assert {"presample_shard", "presample_round", "reference_logprobs", "round_logprobs", "finetune", "evaluate",
            "evaluate_ablation", "evaluate_validation"} <= model_rules  # fmt: skip
    undeclared = {
        r for r in model_rules
        if not re.search(r'^\s+gpu=config\["(sampling|training)"\]\["(gpus_per_shard|gpus)"\]', bodies[r], re.M)
    }  # fmt: skip
    assert not undeclared, f"no gpu resource from the config in {sorted(undeclared)}"
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())["set-resources"]
    assert all(profile.get(r, {}).get("slurm_partition") == "<gpu-partition>" for r in model_rules)
    assert not [r for r in model_rules if "gpu" in profile[r]], "the profile overrides the config's GPUs"
