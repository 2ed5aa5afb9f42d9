"""How a run's config is composed from its files, and which file set each key.

One layering, the same for Snakemake, the `o1pruner config` command and the tests:

- no `--configfile`: `config/config.yaml` of the working directory (the embedded toy world),
  or the workflow's own where the working directory has none;
- `--configfile A B ...`: the files in that order, each one preceded by the files it names in
  its top-level `extends:` key (paths relative to the file, applied recursively). A file is
  applied once, at its first place, so `--configfile config/toy_thinking.yaml
  config/toy_real_data.yaml` (both extend config.yaml) does not reapply the toy default between
  the two;
- `--config key=value`: last.

Nothing else is underneath: a config without `extends` (every real-model config) is complete
with the schema's defaults, and never inherits the toy's choices. Later files win key by key
(nested mappings are merged, as Snakemake merges config files); every leaf key remembers the
file that set it, so a run can show where each of its settings comes from.

Only the standard library and PyYAML: `rules/common.smk` imports it while planning.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXTENDS_KEY = "extends"
DEFAULT_CONFIG = Path("config") / "config.yaml"
CLI_SOURCE = "--config"


class LayeringError(ValueError):
    """A config file that cannot be composed: missing, not a mapping, or extending in a cycle."""


@dataclass
class Composition:
    """The composed config, the files in the order applied, and the source of every leaf key."""

    config: dict
    files: list[str]
    sources: dict[str, str] = field(default_factory=dict)


def _label(path: Path) -> str:
    """A file as the user would type it: relative to the working directory where it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _read(path: Path, named_by: str) -> dict:
    if not path.is_file():
        raise LayeringError(f"config file {path} does not exist ({named_by})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise LayeringError(f"config file {path}{where} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LayeringError(f"config file {path} must hold a mapping of config keys, not a {type(data).__name__}")
    return data


def _chain(path: Path, named_by: str, stack: tuple[Path, ...] = ()) -> list[tuple[Path, dict]]:
    """`path` preceded by what it extends, base first: (file, its keys without `extends`)."""
    path = path.resolve()
    if path in stack:
        cycle = " -> ".join(_label(p) for p in (*stack, path))
        raise LayeringError(f"config files extend each other in a cycle: {cycle}")
    data = _read(path, named_by)
    bases = data.pop(EXTENDS_KEY, None)
    if bases is None:
        bases = []
    elif isinstance(bases, str):
        bases = [bases]
    elif not (isinstance(bases, list) and all(isinstance(b, str) for b in bases)):
        raise LayeringError(f"config file {_label(path)}: `{EXTENDS_KEY}` must be a file name or a list of them")
    chain: list[tuple[Path, dict]] = []
    for base in bases:
        chain += _chain(path.parent / base, f"`{EXTENDS_KEY}` of {_label(path)}", (*stack, path))
    return [*chain, (path, data)]


def _merge(into: dict, update: dict, source: str, sources: dict[str, str], prefix: str = "") -> None:
    """Snakemake's merge (nested mappings key by key, anything else replaced), with sources."""
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, source, sources, dotted + ".")
            continue
        for stale in [k for k in sources if k == dotted or k.startswith(dotted + ".")]:
            del sources[stale]
        into[key] = copy.deepcopy(value)
        _record(value, source, sources, dotted)


def _record(value, source: str, sources: dict[str, str], dotted: str) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _record(child, source, sources, f"{dotted}.{key}")
    else:
        sources[dotted] = source


def default_config_file(workflow_dir: Path | None = None) -> Path:
    """`config/config.yaml` of the working directory, else the workflow's own."""
    if DEFAULT_CONFIG.exists() or workflow_dir is None:
        return DEFAULT_CONFIG
    return Path(workflow_dir) / DEFAULT_CONFIG


def compose(
    configfiles: list[str | Path] | tuple = (),
    overrides: dict | None = None,
    workflow_dir: Path | None = None,
) -> Composition:
    """The config of a run given these `--configfile`s and `--config` values (see the module)."""
    if configfiles:
        named = [(Path(f), "given with --configfile") for f in configfiles]
    else:
        named = [(default_config_file(workflow_dir), "the default config, used when no --configfile is given")]
    applied: list[tuple[Path, dict]] = []
    seen: set[Path] = set()
    for path, named_by in named:
        for file, data in _chain(path, named_by):
            if file not in seen:
                seen.add(file)
                applied.append((file, data))
    config: dict = {}
    sources: dict[str, str] = {}
    for file, data in applied:
        _merge(config, data, _label(file), sources)
    if overrides:
        _merge(config, dict(overrides), CLI_SOURCE, sources)
    return Composition(config, [_label(f) for f, _ in applied], sources)


def resolve_ref(node: dict, root: dict) -> dict:
    """A schema node with its local `$ref` (`#/$defs/...`) followed."""
    ref = node.get("$ref")
    if ref and ref.startswith("#/"):
        for part in ref[2:].split("/"):
            root = root[part]
        return root
    return node


_NO_DEFAULT = object()


def schema_default(schema: dict, dotted: str):
    """The schema's default at a dotted key (its own, or an enclosing mapping default that
    holds it), or _NO_DEFAULT."""
    node, parts = schema, dotted.split(".")
    for i, part in enumerate(parts):
        node = resolve_ref(node, schema)
        if "default" in node and i > 0:
            found = _lookup(node["default"], parts[i:])
            if found is not _NO_DEFAULT:
                return found
        props = node.get("properties", {})
        if part in props:
            node = props[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return _NO_DEFAULT
    node = resolve_ref(node, schema)
    return node.get("default", _NO_DEFAULT)


def _lookup(value, parts: list[str]):
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return _NO_DEFAULT
        value = value[part]
    return value


def _value_at(config: dict, dotted: str):
    return _lookup(config, dotted.split("."))


def set_keys(composition: Composition, config: dict, schema: dict) -> list[tuple[str, object, str]]:
    """(key, value, file) for every key a file or --config set to something other than the
    schema's default, in key order; `config` is the composed config after checks and coercion."""
    rows = []
    for key, source in sorted(composition.sources.items()):
        value = _value_at(config, key)
        if value is _NO_DEFAULT or value == schema_default(schema, key):
            continue
        rows.append((key, value, source))
    return rows


def sources_table(rows: list[tuple[str, object, str]]) -> str:
    """The keys that differ from the schema's defaults, with the file that set each, as text."""
    if not rows:
        return "every key at the schema's default\n"
    width = max(len(k) for k, _, _ in rows)
    lines = []
    for key, value, source in rows:
        shown = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
        if shown.endswith("\n..."):
            shown = shown[:-4].strip()
        shown = shown.removesuffix("...").strip()
        if len(shown) > 60:
            shown = shown[:57] + "..."
        lines.append(f"  {key:<{width}}  {shown:<24}  {source}")
    return "\n".join(lines) + "\n"
