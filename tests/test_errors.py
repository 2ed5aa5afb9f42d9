"""Bad input fails early and clearly, naming the key, path, file or line, and leaves no output."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import presample_args, presample_settings, snakemake_cmd

from o1pruner.cli import main

REPO = Path(__file__).resolve().parents[1]


def smoke_config() -> dict:
    return yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())


def run(tmp_path: Path, cfg: dict, *args: str) -> subprocess.CompletedProcess:
    """`cfg` run by Snakemake in a checkout in `tmp_path` (`--cores 1`, or `args`)."""
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = snakemake_cmd(tmp_path, tmp_path / "config.yaml", *(args or ("--cores", "1")))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)


def _set(cfg: dict, dotted: str, value):
    *head, last = dotted.split(".")
    node = cfg
    for k in head:
        node = node[k]
    node[last] = value


# Each check once through Snakemake (the workflow's own one-line message, nothing planned or
# written), then every case through the same checks called directly (`load_config` +
# `check_planned_config`, what rules/common.smk runs), which is ~10 s per case faster.
THROUGH_SNAKEMAKE = [
    ("sampling.k", 0, "config key sampling.k: 0 is less than the minimum of 1"),
    ("reward.lamda", 5, "config key reward.lamda is not a known key (did you mean reward.lambda?)"),
    (
        "evaluation.sampled",
        {"samples_per_problem": {"default": 2}, "pass_k": [1, 4]},
        "config key evaluation.sampled.pass_k: pass@4 needs at least 4 samples per problem, but toy has 2",
    ),
    (
        "prompt.thinking_end",
        "<|im_end|>",
        "config key prompt.thinking_end: the toy's thinking block closes with '</think>', not '<|im_end|>'",
    ),
    (
        "training",
        {"methods": ["kimi"], "grpo": {"generations": 1}},
        "config key training.grpo.generations: method kimi's reward (Kimi-1.5 length penalty) compares the "
        "responses to one prompt, so it needs a group of at least 2 (got 1)",
    ),
    (
        "training.methods",
        ["o1_pruner", "o1_pruner_r3"],
        "config key training.methods: 'o1_pruner_r3' is round 3 of o1_pruner, which needs round 2 first: rounds "
        "are not listed by name, `rounds: {o1_pruner: {n: 3}}` makes rounds 2..3 (each from the one before)",
    ),
    (
        "training",
        {"per_device_batch_size": 3, "global_batch_size": 8, "methods": ["o1_pruner"]},
        "config key training.global_batch_size: 8 is not a multiple of per_device_batch_size 3 x 1",
    ),
]

CONFIG_ERRORS = [
    *THROUGH_SNAKEMAKE,
    ("reward.lambda", -1.0, "config key reward.lambda: -1.0 is less than the minimum of 0"),
    ("training.epsilon", 1.5, "config key training.epsilon: 1.5 is greater than or equal to the maximum of 1"),
    ("training.epsilon", 0.0, "config key training.epsilon: 0.0 is less than or equal to the minimum of 0"),
    ("datasets.test", [], "config key datasets.test: [] should be non-empty"),
    ("sampling.temperature", "hot", "config key sampling.temperature: 'hot' is not of type 'number'"),
    ("sampling.top_k", 5, "config key sampling.top_k is not a known key"),
    ("reward.normalize", "minmax", "config key reward.normalize: 'minmax' is not one of ['zscore', 'none']"),
    (
        "training.baseline_samples_per_problem",
        2,
        "config key training.baseline_samples_per_problem was replaced: use training.shortest_correct_per_problem",
    ),
    (
        "evaluation.sampled_reference",
        True,
        "config key evaluation.sampled_reference was replaced: use evaluation.sampled",
    ),
    (
        "evaluation.sampled",
        {"samples_per_problem": {"default": 2, "aime24": 16}},
        "config key evaluation.sampled.samples_per_problem.aime24: not a test set of datasets.test (toy)",
    ),
    (
        "evaluation.budget_forcing.budgets",
        [16, 100],
        "config key evaluation.budget_forcing.budgets: a budget of 100 tokens is larger than the token cap of toy "
        "(64, evaluation.max_new_tokens)",
    ),
    (
        "evaluation.max_new_tokens",
        {"default": 64, "aime25": 128},
        "config key evaluation.max_new_tokens.aime25: not a test set of datasets.test (toy)",
    ),
    (
        "toy.thinking",
        False,
        "config key prompt.thinking_end: '</think>' is not a token of the toy reference, which has no thinking "
        "block (toy.thinking: false)",
    ),
    (
        "prompt.thinking_end",
        None,
        "config key evaluation.budget_forcing.budgets: budget forcing closes the thinking block, so it needs the "
        "marker that closes it (prompt.thinking_end",
    ),
    (
        "training.methods",
        ["o1_pruner", "simpo_x"],
        "config key training.methods: 'simpo_x' is not a registered method (registered: o1_pruner, sft, dpo, "
        "o1_pruner_gated, o1_pruner_paper, simpo, dast,",
    ),
    (
        "evaluation.controls",
        ["marker_ban", "budget"],
        "config key evaluation.controls: 'budget' is not a registered control (registered: marker_ban,",
    ),
    (
        "training.method_overrides",
        {"o1_pruner_lambda9": {}, "spo": {"learning_rate": 1.0}},
        "config key training.method_overrides.spo: not a registered method",
    ),
]

TRAINING_LAYOUT_ERRORS = [
    (
        {"per_device_batch_size": 3, "global_batch_size": 8},
        "config key training.global_batch_size: 8 is not a multiple of per_device_batch_size 3 x 1",
    ),
    (
        {"cpu_processes": 2, "per_device_batch_size": 4, "global_batch_size": 6},
        "config key training.global_batch_size: 6 is not a multiple of per_device_batch_size 4 x 2",
    ),
    (
        {"cpu_processes": 2, "distributed": "zero3", "bf16": True, "pure_bf16": True},
        "config key training.pure_bf16: DeepSpeed ZeRO (zero3) keeps its own fp32 master weights",
    ),
    (
        {"cpu_processes": 2, "distributed": "zero2", "method_overrides": {"sft": {"finetuning": "lora"}}},
        "config key training.method_overrides.sft.finetuning: lora is not supported with training.distributed",
    ),
    ({"gradient_accumulation_steps": 4}, "config key training.gradient_accumulation_steps was replaced: use"),
    (
        {"cpu_processes": 64, "distributed": "ddp", "per_device_batch_size": 1, "global_batch_size": 64},
        "64 training processes for 48 training problems",
    ),
]


@pytest.mark.parametrize("key,value,expected", THROUGH_SNAKEMAKE)
def test_config_errors_name_the_key_in_one_short_message_before_any_job(tmp_path, key, value, expected):
    cfg = smoke_config()
    _set(cfg, key, value)
    # A real run, not `-n`: had the check let it through, jobs would have written results/ and logs/.
    result = run(tmp_path, cfg)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert f"config error: {expected}" in out
    # One message, not the schema and the merged config (Snakemake's own validate prints ~700 lines).
    assert len(out.strip().splitlines()) <= 4, out
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def _planned_config_error(tmp_path, cfg) -> str:
    """The ConfigError the workflow's checks raise for `cfg` (over config/config.yaml, as the
    workflow profile merges them)."""
    from o1pruner.config.checks import check_planned_config
    from o1pruner.config.load import ConfigError, load_config, load_schema

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    schema = load_schema(REPO / "config" / "schema.yaml")
    with pytest.raises(ConfigError) as e:
        check_planned_config(load_config(REPO / "config" / "config.yaml", tmp_path / "config.yaml"), schema)
    return str(e.value)


@pytest.mark.parametrize("key,value,expected", CONFIG_ERRORS)
def test_config_errors_are_raised_by_the_workflows_checks(tmp_path, key, value, expected):
    cfg = smoke_config()
    _set(cfg, key, value)
    assert expected in _planned_config_error(tmp_path, cfg)


@pytest.mark.parametrize("training,expected", TRAINING_LAYOUT_ERRORS)
def test_training_layout_errors(tmp_path, training, expected):
    cfg = smoke_config()
    cfg["training"].update(training)
    assert expected in _planned_config_error(tmp_path, cfg)


def test_snakemakes_own_validation_message_is_what_the_short_one_replaces(tmp_path):
    """Negative case for the line count above: the message it replaces is hundreds of lines."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    cfg = smoke_config()
    cfg["rewrd"] = {}
    with pytest.raises(WorkflowError) as raised:
        validate(cfg, str(REPO / "config" / "schema.yaml"))
    assert len(str(raised.value).splitlines()) > 100


def test_config_on_the_command_line_changes_numbers(tmp_path):
    """`--config reward='{lambda: 3.0}'`: Snakemake passes nested values as strings; they are
    converted to the schema's types, and the run replans from the reward on."""
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(smoke_config()))
    cmd = snakemake_cmd(
        tmp_path,
        tmp_path / "config.yaml",
        "-n",
        "--config",
        "reward={lambda: 3.0, samples_per_problem: 3}",
        "training={bf16: false, seeds: [0, 5]}",
    )
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "seed5" in result.stdout
    # the dry run's config table: each value converted to the schema's type, set by --config
    out = result.stdout + result.stderr
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert table["reward.lambda"] == ["3.0", "--config"] and table["reward.samples_per_problem"] == ["3", "--config"]
    assert table["training.bf16"] == ["false", "--config"], table.get("training.bf16")


def test_coercion_is_what_makes_cli_config_work():
    """Negative case: without the conversion the same values fail the schema."""
    from o1pruner.config.load import ConfigError, check_config, coerce_cli_values, load_schema

    schema = load_schema(REPO / "config" / "schema.yaml")
    cfg = smoke_config()
    cfg["reward"] = {**cfg["reward"], "lambda": "3.0"}
    with pytest.raises(ConfigError, match="config key reward.lambda: '3.0' is not of type 'number'"):
        check_config(cfg, schema)
    check_config(coerce_cli_values(cfg, schema), schema)


def test_missing_model_path_fails_in_the_first_rule_that_loads_it(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"id": "a", "problem": "1+1?", "answer": "2"}) + "\n")
    out = tmp_path / "samples.parquet"
    settings = presample_settings(k=1, max_new_tokens=8, batch_size=1, system_prompt=None)
    code = main(presample_args(tmp_path / "no-such-model", problems, settings, out))
    assert code == 2 and not out.exists()
    (tmp_path / "half-model").mkdir()
    (tmp_path / "half-model" / "config.json").write_text("{}")
    with pytest.raises(Exception, match="no tokenizer files"):
        from o1pruner.models import check_model_path

        check_model_path(str(tmp_path / "half-model"))


@pytest.mark.parametrize(
    "path,expected",
    [
        ("{tmp}/no-such-model", "model.path '{tmp}/no-such-model' does not exist"),
        (
            "AIDC-AI/Marco-o1-typo",
            "model.path 'AIDC-AI/Marco-o1-typo' is not a local folder and not in the local hub cache",
        ),
    ],
)
def test_bad_model_path_fails_when_the_workflow_is_planned(tmp_path, path, expected):
    cfg = smoke_config()
    cfg["model"].update(path=path.format(tmp=tmp_path), toy_reference=False)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = snakemake_cmd(tmp_path, tmp_path / "config.yaml", "--cores", "1")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0 and expected.format(tmp=tmp_path) in out
    assert len(out.strip().splitlines()) <= 4, out
    assert not (tmp_path / "logs").exists() and not (tmp_path / "results").exists()
    # A dry run of the hub id only warns: a plan can be made on a machine without the hub.
    if "/" in path and not path.startswith("{"):
        dry = subprocess.run([*cmd, "-n"], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert dry.returncode == 0 and "warning: model.path" in dry.stderr


def test_malformed_and_empty_problem_files(tmp_path):
    from o1pruner.io import InputError, read_jsonl

    f = tmp_path / "p.jsonl"
    f.write_text('{"id": "a", "problem": "x", "answer": "1"}\n{"id": "b", "problem": "y"}\n')
    with pytest.raises(InputError, match=r"p.jsonl, line 2: missing field\(s\) answer"):
        read_jsonl(f, required=("id", "problem", "answer"))
    f.write_text('{"id": "a", "problem": "x", "answer": "1"}\n{oops\n')
    with pytest.raises(InputError, match=r"p.jsonl, line 2: not valid JSON"):
        read_jsonl(f)
    f.write_text("\n")
    with pytest.raises(InputError, match=r"p.jsonl: no rows"):
        read_jsonl(f)


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"top_k": 5}, "--settings: unknown key 'top_k' for PresampleSettings"),
        ({"temperature": None}, "--settings: key 'temperature' is missing for PresampleSettings"),
    ],
)
def test_incomplete_or_unknown_stage_settings_stop_before_any_work(tiny_model, tmp_path, change, expected, capsys):
    """A stage run by hand gets its settings typed at the command line: no silent default."""
    model, problems = tiny_model
    settings = json.loads(presample_settings())
    settings.update({k: v for k, v in change.items() if v is not None})
    for k in [k for k, v in change.items() if v is None]:
        del settings[k]
    out = tmp_path / "samples.parquet"
    assert main(presample_args(model, problems, json.dumps(settings), out)) == 2
    assert expected in capsys.readouterr().err and not out.exists()


def test_missing_input_file_is_a_clear_error(tmp_path):
    code = main(["reference-stats", "--samples", str(tmp_path / "none.parquet"), "--out", str(tmp_path / "o.parquet")])
    assert code == 2 and not (tmp_path / "o.parquet").exists()


def test_a_vllm_backend_without_the_vllm_environment_stops_before_any_job(tmp_path):
    cfg = smoke_config()
    cfg["evaluation"]["backend"] = "vllm"
    cfg["vllm"] = {"venv": str(tmp_path / "no-such-venv")}
    result = run(tmp_path, cfg)
    out = result.stdout + result.stderr
    expected = (
        f"config error: config key evaluation.backend: vllm needs the vLLM environment, but {tmp_path}/no-such-venv"
    )
    assert result.returncode != 0 and expected in out, out
    assert "bash scripts/setup.sh --vllm" in out and len(out.strip().splitlines()) <= 4, out
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def test_more_presampling_shards_than_generation_batches_stop_before_any_job(tmp_path):
    cfg = smoke_config()  # 48 training problems, 64 // 8 = 8 per batch: 6 batches
    cfg["sampling"]["shards"] = 7
    result = run(tmp_path, cfg)
    out = result.stdout + result.stderr
    expected = "config error: config key sampling.shards: 7 is more than the 6 generation batch(es) of the 48 training"
    assert result.returncode != 0 and expected in out, out
    assert len(out.strip().splitlines()) <= 4, out


def test_fewer_gpus_per_generating_job_than_the_vllm_tensor_parallel_group_stop_before_any_job(tmp_path):
    """A GPU run's vLLM engine holds vllm.tensor_parallel_size GPUs: a job given fewer fails late."""
    cfg = smoke_config()
    cfg["sampling"].update(backend="vllm", gpus_per_shard=1)
    cfg["vllm"] = {"tensor_parallel_size": 2}
    result = run(tmp_path, cfg)
    out = result.stdout + result.stderr
    expected = (
        "config error: config key sampling.gpus_per_shard: 1 GPU(s) per pre-sampling and evaluation job, fewer "
        "than vllm.tensor_parallel_size 2 (sampling.backend is vllm)"
    )
    assert result.returncode != 0 and expected in out, out
    assert not (tmp_path / "results").exists()


def test_an_interrupted_stage_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    """Ctrl-C in a job: exit 130 and one line, no traceback, no output."""
    from o1pruner import stages

    def interrupted(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(stages, "reference_stats", interrupted)
    out = tmp_path / "stats.parquet"
    assert main(["reference-stats", "--samples", str(tmp_path / "s.parquet"), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "o1pruner reference-stats: interrupted; its outputs were not written" in err
    assert "Traceback" not in err and not out.exists()
