"""config/README.md documents every key of the schema, and every shipped config validates."""

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def schema_keys(node: dict, prefix: str = ""):
    for key, sub in (node.get("properties") or {}).items():
        path = f"{prefix}{key}"
        if sub.get("type") == "object" and "properties" in sub:
            if path != "toy.reference":  # its model knobs are listed together
                yield from schema_keys(sub, f"{path}.")
        else:
            yield path


def test_every_schema_key_is_documented():
    schema = yaml.safe_load((REPO / "config/schema.yaml").read_text())
    docs = (REPO / "config/README.md").read_text()
    keys = list(schema_keys(schema))
    assert len(keys) > 60
    missing = [k for k in keys if f"`{k}`" not in docs]
    assert not missing, f"config/README.md does not document {missing}"


SHIPPED = sorted(p.name for p in (REPO / "config").glob("*.yaml") if p.name != "schema.yaml")


@pytest.mark.parametrize(
    "files",
    [[name] for name in SHIPPED if name not in ("vllm.yaml", "rehearsal.yaml", "grpo_vllm.yaml")]
    + [["smoke.yaml", "vllm.yaml"], ["smoke.yaml", "vllm.yaml", "grpo_vllm.yaml"]]
    + [["toy_thinking_helps.yaml", "toy_length_methods.yaml"]]
    + [[real, "rehearsal.yaml"] for real in ("paper_marco_o1.yaml", "paper_qwq.yaml", "r1_distill_qwen.yaml")],
    ids=lambda files: "+".join(files),
)
def test_shipped_configs_compose_and_pass_every_planning_check(files, monkeypatch):
    """Each shipped config as a user gives it (composed with what it extends, as the workflow
    composes it, not merged by hand), then every check the workflow runs before planning."""
    from o1pruner import rehearsal
    from o1pruner.config.checks import check_planned_config
    from o1pruner.config.load import load_config, load_schema

    monkeypatch.chdir(REPO)  # data paths are relative to the working directory, as for a user
    config = load_config(*(REPO / "config" / name for name in files))
    if config["rehearsal"]["enabled"]:
        config, rows = rehearsal.rehearse(config)
        assert rows and config["model"]["name"].endswith(rehearsal.SUFFIX)
    check_planned_config(config, load_schema(REPO / "config/schema.yaml"))
    if config.get("toy", {}).get("solution_style") == "estimate_check":
        assert len(config["toy"]["estimate_error"]) == len(config["toy"]["levels"])
