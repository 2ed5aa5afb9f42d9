"""The workflow's config, loaded and checked against its schema: one short message per problem.

Imported by `rules/common.smk`, so it needs only the standard library, PyYAML and jsonschema.
What it owns: reading the schema, composing a run's config from its files (`layers.compose`),
converting `--config` values (Snakemake's `--config key='{a: 1.5}'` hands nested scalars over as
strings; they become the type the schema asks for, so `--config` can change numbers), checking
the result (`check_config`: the schema's first error as one line naming the dotted key, where
Snakemake's own `validate` prints the whole schema and config) and filling the schema's defaults.
The plan-time checks of what a config asks for are in `checks.py`.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import yaml

from .layers import resolve_ref as _resolve


class ConfigError(ValueError):
    """A config problem, worded for the user: names the key, value or path."""


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _types(node: dict) -> set[str]:
    t = node.get("type")
    if t is None and "enum" in node:
        return {type(v).__name__ for v in node["enum"]}
    return set(t) if isinstance(t, list) else {t} if t else set()


def _parse_scalar(text: str, types: set[str]):
    """The value `text` stands for, if the schema admits a non-string type for it."""
    if "integer" in types and re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    if "number" in types:
        try:
            return float(text) if not re.fullmatch(r"[+-]?\d+", text.strip()) else int(text)
        except ValueError:
            pass
    if "boolean" in types and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    if "null" in types and text.strip() in ("null", "None", "~", ""):
        return None
    return text


def coerce_cli_values(value, node: dict, root: dict | None = None):
    """`value` with strings converted where the schema `node` asks for a number, bool or null.
    A key that admits several forms (`oneOf`/`anyOf`, e.g. a number or a per-set mapping) takes
    the first form the value converts to."""
    root = root if root is not None else node
    node = _resolve(node, root)
    alternatives = node.get("oneOf") or node.get("anyOf")
    if alternatives:
        for alternative in alternatives:
            alternative = _resolve(alternative, root)
            if isinstance(value, dict) and "object" not in _types(alternative):
                continue
            if isinstance(value, list) and "array" not in _types(alternative):
                continue
            converted = coerce_cli_values(value, alternative, root)
            if not isinstance(converted, str) or "string" in _types(alternative):
                return converted
        return value
    if isinstance(value, str):
        types = _types(node)
        return value if "string" in types or not types else _parse_scalar(value, types)
    if isinstance(value, list):
        items = node.get("items", {})
        return [coerce_cli_values(v, items, root) for v in value]
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        out = {}
        for k, v in value.items():
            child = props.get(k, extra if isinstance(extra, dict) else {})
            out[k] = coerce_cli_values(v, child, root)
        return out
    return value


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


# Keys that were renamed or replaced: the old name gets a message saying what to write instead.
REPLACED_KEYS = {
    ("evaluation", "sampled_reference"): "evaluation.sampled (every run, the reference included, is evaluated with "
    "sampling next to greedy; samples_per_problem {default: 0} turns it off)",
    ("evaluation", "sampled_temperature"): "evaluation.sampled.temperature",
    ("training", "baseline_samples_per_problem"): "training.shortest_correct_per_problem (the m shortest "
    "correct samples per problem that SFT trains on and DPO prefers)",
    ("training", "gradient_accumulation_steps"): "training.global_batch_size (sequences per optimiser step "
    "over all processes; accumulation is derived from it)",
}


def check_config(config: dict, schema: dict) -> None:
    """Raise ConfigError naming the first invalid key of `config` (schema defaults not needed)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    for (section, key), instead in REPLACED_KEYS.items():
        if key in (config.get(section) or {}):
            raise ConfigError(f"config key {section}.{key} was replaced: use {instead}")

    training_keys = set(schema["properties"]["training"]["properties"])
    for method, overrides in ((config.get("training") or {}).get("method_overrides") or {}).items():
        unknown = sorted(set(overrides or {}) - training_keys)
        if unknown:
            raise ConfigError(f"config key training.method_overrides.{method}.{unknown[0]} is not a training key")
    error = best_match(Draft202012Validator(schema).iter_errors(config))
    if error is None:
        return
    key = _dotted(error.absolute_path)
    if error.validator == "additionalProperties":
        node = _resolve(error.schema, schema)
        known = sorted(node.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        parent = "" if not error.absolute_path else key + "."
        names = ", ".join(parent + u for u in unknown)
        hint = ""
        close = difflib.get_close_matches(unknown[0], known, n=1) if unknown and known else []
        if close:
            hint = f" (did you mean {parent}{close[0]}?)"
        elif known:
            hint = f" (known keys here: {', '.join(known)})"
        raise ConfigError(f"config key {names} is not a known key{hint}")
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        parent = "" if not error.absolute_path else key + "."
        raise ConfigError(f"config key {parent}{missing[0] if missing else '?'} is missing")
    raise ConfigError(f"config key {key}: {error.message}")


def with_defaults(value, node: dict, root: dict | None = None):
    """`value` with the schema's defaults filled in where a key is absent (as Snakemake's
    `validate` does): for the stages run outside Snakemake, by tests and scripts."""
    root = root if root is not None else node
    node = _resolve(node, root)
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key, child in node.get("properties", {}).items():
        child = _resolve(child, root)
        if key not in out and "default" in child:
            out[key] = json.loads(json.dumps(child["default"]))
        if key in out:
            out[key] = with_defaults(out[key], child, root)
    return out


SCHEMA_PATH = Path(__file__).resolve().parents[3] / "config" / "schema.yaml"


def load_config(*paths: str | Path, overrides: dict | None = None, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """The config a workflow run with these `--configfile`s (and `--config` values) sees:
    composed as `layers` composes it (each file after what it `extends`), converted, checked,
    with the schema's defaults, its method names checked against the registry."""
    from .checks import check_registered_names  # checks build on this module
    from .layers import LayeringError, compose

    try:
        config = compose(paths, overrides).config
    except LayeringError as e:
        raise ConfigError(str(e)) from None
    schema = load_schema(schema_path)
    config = coerce_cli_values(config, schema)
    check_config(config, schema)
    config = with_defaults(config, schema)
    check_registered_names(config)
    return config
