"""The smoke workflow on a real single-node SLURM cluster (../shared/tools/local-slurm.sh).

Skips with a reason where the cluster cannot start (no root, no apt, no script). The run is
wrapped in `timeout -k`, since the executor plugin can wait forever when SLURM accounting fails.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

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
    start = subprocess.run(["bash", str(LOCAL_SLURM), "start"], capture_output=True, text=True, timeout=600)
    if start.returncode != 0:
        pytest.skip(f"local SLURM cluster did not start: {(start.stdout + start.stderr)[-800:]}")
    yield
    subprocess.run(["bash", str(LOCAL_SLURM), "stop"], capture_output=True, timeout=300)


def test_smoke_workflow_on_slurm_matches_a_local_run(cluster, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "slurm"
    for d in (local, remote):
        d.mkdir()
        shutil.copy(REPO / "config" / "smoke.yaml", d / "config.yaml")
    base = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile", "config.yaml"]
    run_local = subprocess.run(
        [*base, "--directory", str(local), "--cores", "2"], capture_output=True, text=True, timeout=1200
    )
    assert run_local.returncode == 0, run_local.stderr[-3000:]
    prefix = f"o1p{os.getpid()}"
    cmd = [
        "timeout",
        "-k",
        "15",
        "1500",
        *base,
        "--directory",
        str(remote),
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
        env={**os.environ, "PATH": (f"{Path(sys.executable).parent}:{os.environ['PATH']}")},
    )
    assert run_slurm.returncode == 0, (run_slurm.stdout + run_slurm.stderr)[-5000:]
    # Every rule that is not declared local ran as a SLURM job.
    sacct = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--starttime", "now-2hours", "--format", "JobName,State"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = [line.split("|")[0] for line in sacct.splitlines() if line.strip()]
    ran = {n for n in names if prefix in n}
    jobs_log = run_slurm.stdout + run_slurm.stderr
    for rule in ["toy_reference", "presample_shard", "reference_logprobs", "finetune", "evaluate"]:
        assert f"rule {rule}:" in jobs_log, f"{rule} was not submitted"
    assert len(ran) >= 10, f"sacct shows only {sorted(ran)}"
    # Same results as the local run.
    samples = "results/samples/toy-qwen2/toy/samples.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(local / samples), pd.read_parquet(remote / samples))
    table = "results/tables/main_results.csv"
    left, right = pd.read_csv(local / table), pd.read_csv(remote / table)
    pd.testing.assert_frame_equal(left.drop(columns=["wall_time_s"]), right.drop(columns=["wall_time_s"]))
