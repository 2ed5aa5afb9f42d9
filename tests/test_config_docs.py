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


@pytest.mark.parametrize(
    "overlay",
    ["toy_thinking_helps.yaml", "toy_real_data.yaml", "toy_thinking_helps.yaml toy_length_methods.yaml", None],
)
def test_shipped_toy_configs_validate(overlay):
    from snakemake.utils import validate

    from o1pruner.workflow_config import check_planned_config

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name in (overlay or "").split():
        for section, values in yaml.safe_load((REPO / "config" / name).read_text()).items():
            config.setdefault(section, {}).update(values)
    validate(config, str(REPO / "config/schema.yaml"))
    check_planned_config(config, yaml.safe_load((REPO / "config/schema.yaml").read_text()))
    if config["toy"].get("solution_style") == "estimate_check":
        assert len(config["toy"]["estimate_error"]) == len(config["toy"]["levels"])
