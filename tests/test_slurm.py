"""The smoke workflow on a real single-node SLURM cluster (../shared/tools/local-slurm.sh).

Skips with a reason where the cluster cannot start (no root, no apt, no script). The run is
wrapped in `timeout -k`, since the executor plugin can wait forever when SLURM accounting fails.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import without_extra_evaluations

REPO = Path(__file__).resolve().parents[1]
LOCAL_SLURM = REPO.parent / "shared" / "tools" / "local-slurm.sh"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    if not LOCAL_SLURM.exists():
        pytest.skip(f"{LOCAL_SLURM} is absent")
    if os.geteuid() != 0:
        pytest.skip("local-slurm.sh needs root")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.skip("snakemake-executor-plugin-slurm is not installed")
    # nproc honours OMP_NUM_THREADS: size the node from the machine, not from this process's env.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["LOCAL_SLURM_CPUS"] = str(os.cpu_count())
    start = subprocess.run(["bash", str(LOCAL_SLURM), "start"], capture_output=True, text=True, timeout=600, env=env)
    if start.returncode != 0:
        pytest.skip(f"local SLURM cluster did not start: {(start.stdout + start.stderr)[-800:]}")
    yield
    subprocess.run(["bash", str(LOCAL_SLURM), "stop"], capture_output=True, timeout=300)


def test_smoke_workflow_on_slurm_matches_a_local_run(cluster, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "slurm"
    # the profile and the rules' resources are what is tested: greedy evaluation only, for time
    cfg = without_extra_evaluations(yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()))
    for d in (local, remote):
        d.mkdir()
        (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    base = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile", "config.yaml"]
    run_local = subprocess.run([*base, "--cores", "2"], capture_output=True, text=True, timeout=1200, cwd=local)
    assert run_local.returncode == 0, run_local.stderr[-3000:]
    prefix = f"o1p{os.getpid()}"
    cmd = [
        "timeout",
        "-k",
        "15",
        "1500",
        *base,
        "--profile",
        str(REPO / "tests" / "profiles" / "slurm"),
        "--slurm-jobname-prefix",
        prefix,
    ]
    run_slurm = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=1600,
        cwd=remote,
        env={**os.environ, "PATH": (f"{Path(sys.executable).parent}:{os.environ['PATH']}")},
    )
    assert run_slurm.returncode == 0, (run_slurm.stdout + run_slurm.stderr)[-5000:]
    # Every rule that is not declared local ran as a SLURM job (the plugin puts the rule name in
    # the job's comment: rule_<name>_wildcards_...).
    sacct = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--starttime", "now-3hours", "--format", "JobName,Comment,State"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = [line.split("|") for line in sacct.splitlines() if line.startswith(prefix)]
    rules = [re.match(r"rule_(.+?)(_wildcards_.*)?$", comment).group(1) for _, comment, _ in jobs]
    assert all(state == "COMPLETED" for *_, state in jobs), jobs
    expected = {"toy_reference": 1, "presample_shard": 1, "reference_logprobs": 1, "finetune": 3}
    expected.update(evaluate=6)  # reference, 2 controls, 3 trained runs
    assert {r: rules.count(r) for r in set(rules)} == expected
    # Same results as the local run.
    samples = "results/samples/toy-qwen2-smoke/toy/samples.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(local / samples), pd.read_parquet(remote / samples))
    table = "results/tables/toy-qwen2-smoke/main_results.csv"
    left, right = pd.read_csv(local / table), pd.read_csv(remote / table)
    pd.testing.assert_frame_equal(left.drop(columns=["wall_time_s"]), right.drop(columns=["wall_time_s"]))
