"""Fixtures shared by the test modules: tiny random-init toy models and their data, one smoke
run that the tests which only read its outputs share, and a SLURM controller for the session."""

import os
import subprocess

import pytest
import yaml
from helpers import (
    LOCAL_SLURM,
    REPO,
    fresh_checkout,
    local_slurm,
    o1_pruner_training_data,
    snakemake_cmd,
    tiny_toy_model,
)


@pytest.fixture(scope="session", autouse=True)
def slurm_controller():
    """The local test cluster (../shared/tools/local-slurm.sh), up for the whole session where it
    can start. Once the SLURM executor plugin is installed (`setup.sh --slurm`, a documented
    command this session runs), every Snakemake start asks `scontrol show config` for SLURM's
    MinJobAge, and where SLURM's client tools are installed but no controller answers, that waits
    10 s: a dry run takes 11 s instead of 2. A machine with SLURM's tools has its controller up; so
    does this session. The SLURM tests use it (tests/test_slurm.py); where it cannot start, they
    say why and the rest run, only slower."""
    if not (LOCAL_SLURM.exists() and os.geteuid() == 0):
        yield
        return
    was_up = local_slurm("status").returncode == 0
    local_slurm("start")
    yield
    if not was_up:
        local_slurm("stop")


@pytest.fixture(scope="session")
def docs_checkout(tmp_path_factory):
    """The fresh copy in which tests/test_documented_commands.py runs the documented commands, in
    document order; tests/test_slurm.py compares its SLURM rehearsal with the local one run there."""
    return fresh_checkout(tmp_path_factory.mktemp("clone"))


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """A checkout with the smoke config, less its ablation runs, run to the end (`config.yaml` in
    the checkout's root; the README's smoke line, with them, is run by .ci/run and
    tests/test_documented_commands.py): the workflow tests read it, the SLURM test compares
    against it. Tests that change a config plan it (`-n`) here or copy the checkout first.
    The checkout starts from the quick start's results where CI made them (`fresh_checkout`), so
    the jobs the two configs share are not run twice: what differs (the report) reruns."""
    work = fresh_checkout(tmp_path_factory.mktemp("smoke"))
    cfg = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    cfg["ablations"] = {"lambdas": [], "difficulty": False}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    run = subprocess.run(
        snakemake_cmd(work, work / "config.yaml", "--cores", "2"),
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=work,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return work


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(model folder, problems.jsonl) of a tiny random-init toy model with 20 test problems."""
    model, problems, _ = tiny_toy_model(tmp_path_factory.mktemp("tiny-model"), 20)
    return model, problems


@pytest.fixture(scope="session")
def training_data(tmp_path_factory):
    """`training_data(n_rows)`: a tiny model with an O1-Pruner training set and DPO pairs of
    n_rows problems (made once per size)."""
    made = {}

    def make(n_rows: int):
        if n_rows not in made:
            made[n_rows] = o1_pruner_training_data(tmp_path_factory.mktemp(f"training-{n_rows}"), n_rows)
        return made[n_rows]

    return make
