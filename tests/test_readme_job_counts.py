"""The job counts the README states (the Quick start's smoke and default runs, the rehearsal
table) are the ones Snakemake plans for those lines."""

import re
import subprocess

import pytest
from helpers import REPO

README = (REPO / "README.md").read_text()
STATED = {
    ("config/smoke.yaml",): re.search(r"^\| smoke run \| all (\d+) jobs", README, re.M),
    (): re.search(r"^\| default run \| (\d+) jobs", README, re.M),
    **{
        (f"config/{name}.yaml", "config/rehearsal.yaml"): m
        for m in re.finditer(r"^\| `(paper_\w+|r1_distill_qwen)` \| (\d+) \|", README, re.M)
        for name in [m.group(1)]
    },
}


def planned_jobs(configfiles: tuple[str, ...]) -> int:
    cmd = [".venv/bin/snakemake", "-n", "--forceall"] + (["--configfile", *configfiles] if configfiles else [])
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    return int(re.search(r"^total\s+(\d+)$", run.stdout + run.stderr, re.M).group(1))


def test_the_readme_states_every_count():
    assert all(STATED.values()) and len(STATED) == 5, {k: bool(v) for k, v in STATED.items()}


@pytest.mark.parametrize("configfiles", list(STATED), ids=lambda files: " ".join(files) or "default")
def test_the_readme_job_count_is_the_planned_one(configfiles):
    stated = int(STATED[configfiles].groups()[-1])
    assert planned_jobs(configfiles) == stated
