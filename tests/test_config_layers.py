"""One layering of config files (src/o1pruner/config/layers.py): what each shipped config is
composed of, which file set each key, and the errors of a file that cannot be composed."""

from pathlib import Path

import pytest
import yaml

from o1pruner.config.layers import LayeringError, compose, schema_default, set_keys, sources_table
from o1pruner.config.load import load_config, load_schema

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config"
SCHEMA = load_schema(CONFIG / "schema.yaml")
REAL_MODEL_CONFIGS = ["paper_marco_o1.yaml", "paper_qwq.yaml", "r1_distill_qwen.yaml", "r1_distill_qwen_7b.yaml"]


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("name", REAL_MODEL_CONFIGS)
def test_a_real_model_config_inherits_nothing_from_the_toy(name):
    """The leak: Snakemake's `configfile:` put config/config.yaml under every --configfile, so
    the toy's `selection.methods: [o1_pruner]` (and its controls, seeds, sizes) reached the paper runs."""
    layers = compose([CONFIG / name])
    assert "config/config.yaml" not in layers.files
    assert not any(source == "config/config.yaml" for source in layers.sources.values())
    config = load_config(CONFIG / name)
    assert config["selection"]["methods"] == []
    assert "toy" not in layers.config and not config["model"]["toy_reference"]


def test_the_default_is_the_toy_and_overlays_name_what_they_extend():
    assert compose([]).files == ["config/config.yaml"]
    assert compose([CONFIG / "smoke.yaml"]).files == ["config/smoke.yaml"]  # complete in itself
    assert compose([CONFIG / "toy_thinking.yaml"]).files == ["config/config.yaml", "config/toy_thinking.yaml"]
    assert compose([CONFIG / "toy_length_methods.yaml"]).files == [
        "config/config.yaml",
        "config/toy_thinking_helps.yaml",
        "config/toy_length_methods.yaml",
    ]
    assert compose([CONFIG / "r1_distill_qwen_7b.yaml"]).files == [
        "config/r1_distill_qwen.yaml",
        "config/r1_distill_qwen_7b.yaml",
    ]


def test_a_file_is_applied_once_at_its_first_place():
    """toy_thinking + toy_real_data both extend the toy default: it is not reapplied between
    them (it would undo toy_thinking's model name and thinking block)."""
    layers = compose([CONFIG / "toy_thinking.yaml", CONFIG / "toy_real_data.yaml"])
    assert layers.files == ["config/config.yaml", "config/toy_thinking.yaml", "config/toy_real_data.yaml"]
    assert layers.config["model"]["name"] == "toy-qwen2-think"
    assert layers.config["toy"]["thinking"] is True
    assert layers.sources["model.name"] == "config/toy_thinking.yaml"
    assert layers.sources["datasets.test"] == "config/toy_real_data.yaml"
    assert layers.sources["toy.n_train"] == "config/config.yaml"


def test_sources_follow_the_last_writer_and_the_command_line(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(
        "reward: {lambda: 2.0, reward_clip: [-2, 4]}\nevaluation: {max_new_tokens: {default: 8, gsm8k: 4}}\n"
    )
    top = tmp_path / "top.yaml"
    top.write_text("extends: base.yaml\nevaluation: {max_new_tokens: 16}\n")
    layers = compose([top], {"reward": {"lambda": "3.0"}})
    assert layers.files == [str(base), str(top)]
    assert layers.config["evaluation"]["max_new_tokens"] == 16
    # A mapping replaced by a number: its old leaves no longer have a source.
    assert layers.sources["evaluation.max_new_tokens"] == str(top)
    assert "evaluation.max_new_tokens.gsm8k" not in layers.sources
    assert layers.sources["reward.lambda"] == "--config"
    assert layers.sources["reward.reward_clip"] == str(base)
    assert "extends" not in layers.config


def test_set_keys_lists_only_keys_that_differ_from_the_schema_default():
    layers = compose([CONFIG / "paper_qwq.yaml"])
    config = load_config(CONFIG / "paper_qwq.yaml")
    rows = {key: (value, source) for key, value, source in set_keys(layers, config, SCHEMA)}
    assert rows["reward.lambda"] == (5.0, "config/paper_qwq.yaml")
    assert rows["sampling.k"] == (12, "config/paper_qwq.yaml")
    assert schema_default(SCHEMA, "reward.normalize") == config["reward"]["normalize"]
    assert "reward.normalize" not in rows  # written in the file, but the schema's default
    table = sources_table(list(set_keys(layers, config, SCHEMA)))
    assert "reward.lambda" in table and "config/paper_qwq.yaml" in table


def test_schema_default_reads_through_nested_defaults():
    assert schema_default(SCHEMA, "evaluation.max_new_tokens") == 8192
    assert schema_default(SCHEMA, "training.grpo.temperature") == 1.0
    assert schema_default(SCHEMA, "selection.methods") == []


@pytest.mark.parametrize(
    "files,message",
    [
        ({"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"}, "cycle: a.yaml -> b.yaml -> a.yaml"),
        ({"a.yaml": "extends: missing.yaml\n"}, "missing.yaml does not exist (`extends` of a.yaml)"),
        ({"a.yaml": "- 1\n- 2\n"}, "must hold a mapping of config keys, not a list"),
        ({"a.yaml": "reward: {lambda: [\n"}, "a.yaml line 2 is not valid YAML"),
        ({"a.yaml": "extends: {x: 1}\n"}, "`extends` must be a file name or a list of them"),
    ],
)
def test_a_file_that_cannot_be_composed_is_named(tmp_path, monkeypatch, files, message):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(LayeringError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compose([tmp_path / "a.yaml"])


def test_every_shipped_config_composes_and_checks():
    """Each file in config/ as a user gives it alone (overlays that extend nothing go after a
    complete config: vllm.yaml after smoke.yaml)."""
    for path in sorted(CONFIG.glob("*.yaml")):
        if path.name == "schema.yaml":
            continue
        data = yaml.safe_load(path.read_text())
        files = [path] if "model" in data or "extends" in data or path.name == "config.yaml" else None
        files = files or [CONFIG / "smoke.yaml", path]
        config = load_config(*files)
        assert config["model"]["name"], path
