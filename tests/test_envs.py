"""Every conda env file pins every dependency, and every package the code imports is pinned."""

import ast
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# import name -> distribution name, where they differ
DISTRIBUTION = {
    "yaml": "pyyaml",
    "math_verify": "math-verify",
    "snakemake": "snakemake",
    "huggingface_hub": "huggingface-hub",
}


def third_party_imports(root: Path) -> set[str]:
    names = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names)
    return {n for n in names if n not in stdlib and n != "o1pruner"}


def pinned(env_file: Path) -> dict[str, str]:
    env = yaml.safe_load(env_file.read_text())
    pins = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e "):
                continue
            m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(==|=)\s*([^\s]+)$", item)
            assert m, f"{env_file.name}: {item!r} is not pinned to one version"
            pins[m.group(1).lower()] = m.group(3)
    return pins


def test_every_env_file_pins_every_dependency():
    files = sorted((REPO / "envs").glob("*.yaml"))
    assert files
    for f in files:
        assert pinned(f)


def test_imports_of_the_package_are_pinned_in_its_env():
    pins = pinned(REPO / "envs" / "o1pruner.yaml")
    imports = third_party_imports(REPO / "src" / "o1pruner")
    optional = {"vllm", "psutil"}  # vLLM-only (sampling/vllm_*.py): pinned in envs/vllm.yaml
    missing = sorted(DISTRIBUTION.get(n, n) for n in imports - optional if DISTRIBUTION.get(n, n).lower() not in pins)
    assert not missing, f"imported but not pinned in envs/o1pruner.yaml: {missing}"


def test_requirements_match_the_env_pins():
    pins = pinned(REPO / "envs" / "o1pruner.yaml")
    reqs = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            reqs[name.lower()] = version
    for name, version in pins.items():
        if name in reqs:
            assert reqs[name] == version, f"{name}: envs pins {version}, requirements.txt {reqs[name]}"
