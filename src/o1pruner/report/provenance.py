"""Where a results table came from: config hash, git commit and package versions."""

from __future__ import annotations

import subprocess
from importlib import metadata

PACKAGES = ["o1pruner", "torch", "transformers", "accelerate", "trl", "snakemake", "math-verify", "pandas"]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _git_commit(repo: str | None) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", repo or ".", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "-C", repo or ".", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def collect_provenance(run) -> dict:
    """What the results tables record: the config's hash, the commit and the package versions
    (`run`: the report's `ReportSettings`)."""
    return {
        "config_sha256": run.config_sha256,
        "model": run.model,
        "git_commit": _git_commit(run.workflow_dir),
        "packages": {p: _version(p) for p in PACKAGES},
        "config_files": run.config_files,
        "config_set_by": run.config_set_by,
        "rehearsal": run.rehearsal,
    }
