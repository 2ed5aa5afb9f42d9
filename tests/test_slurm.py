"""The workflow on a real single-node SLURM cluster (../shared/tools/local-slurm.sh) through
the shipped profile, `profiles/slurm`, set up as the README has a user do it: `bash
scripts/setup.sh --slurm` (the plugin), the README's `sed` line for the partition placeholders
(with this cluster's partition), then `.venv/bin/snakemake ... --profile profiles/slurm` from the
checkout's root. This node has 2 CPUs, no GPU and ~20 GB, which the profile's GPU and memory
requests do not fit: the run gives the cluster's sizes on the command line (`--default-resources`,
`--set-resources`, which replace the profile's), as a user overrides a profile for one run, and
polls SLURM every 3 s instead of the profile's 30 s. The run is wrapped in `timeout -k`, since the
executor plugin can wait forever when SLURM accounting fails.

Fails in CI (CI=true) when the cluster does not start; elsewhere skips with the reason.
"""

import os
import re
import shlex
import shutil
import subprocess

import pandas as pd
import pytest
from helpers import LOCAL_SLURM, REPO, local_slurm, user_checkout

PARTITION = "debug"  # local-slurm.sh's one partition

pytestmark = pytest.mark.slow


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"the SLURM test cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster():
    """The session's local cluster (tests/conftest.py starts it; `start` is a no-op when it is up)."""
    if not LOCAL_SLURM.exists():
        _unavailable(f"{LOCAL_SLURM} is absent")
    if os.geteuid() != 0:
        _unavailable("local-slurm.sh needs root")
    if (
        not (REPO / ".venv/bin/python").exists()
        or subprocess.run(
            [str(REPO / ".venv/bin/python"), "-c", "import snakemake_executor_plugin_slurm"], capture_output=True
        ).returncode
    ):
        _unavailable("snakemake-executor-plugin-slurm is not installed (bash scripts/setup.sh --slurm)")
    start = local_slurm("start")
    if start.returncode != 0:
        _unavailable(f"local SLURM cluster did not start: {(start.stdout + start.stderr)[-800:]}")


def readme_partition_line() -> str:
    """The README's `sed` line for the profile's partition placeholders, with this cluster's
    partition for the user's `cpu`/`gpu`."""
    line = next(
        line.split("  #")[0].strip()
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith("sed -i ") and "profiles/slurm/config.yaml" in line
    )
    return re.sub(r"(<(cpu|gpu)-partition>/)\w+/", rf"\1{PARTITION}/", line)


# What this node holds (2 CPUs, ~20 GB, no GPU), for every job.
CLUSTER_SIZES = [
    "--default-resources", f"slurm_partition={PARTITION}", "mem_mb=2000", "runtime=30", "cpus_per_task=1",
    "--set-resources", "toy_reference:cpus_per_task=2", "presample_shard:cpus_per_task=2",
    "--seconds-between-status-checks", "3", "--slurm-init-seconds-before-status-checks", "6",
]  # fmt: skip


def run_on_slurm(checkout, args: list[str], prefix: str) -> dict[str, int]:
    """`.venv/bin/snakemake ARGS --profile profiles/slurm` in `checkout`, its SLURM jobs named with
    `prefix`: every job COMPLETED; how many ran of each rule (the plugin puts the rule name in the
    job's comment: rule_<name>_wildcards_...)."""
    line = [".venv/bin/snakemake", *args, "--slurm-jobname-prefix", prefix]
    run = subprocess.run(
        ["timeout", "-k", "15", "1500", *line], capture_output=True, text=True, timeout=1600, cwd=checkout
    )
    print("ran:", shlex.join(line))
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    sacct = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--starttime", "now-3hours", "--format", "JobName,Comment,State"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = [line.split("|") for line in sacct.splitlines() if line.startswith(prefix)]
    rules = [re.match(r"rule_(.+?)(_wildcards_.*)?$", comment).group(1) for _, comment, _ in jobs]
    assert all(state == "COMPLETED" for *_, state in jobs), jobs
    return {r: rules.count(r) for r in set(rules)}


def test_smoke_workflow_on_slurm_matches_a_local_run(cluster, smoke, tmp_path):
    """The shared smoke run's config (tests/conftest.py) through SLURM: every rule that is not
    local ran as a SLURM job, and the results equal the local run's."""
    remote = user_checkout(tmp_path / "slurm")
    shutil.copy(smoke / "config.yaml", remote / "config.yaml")
    edit = subprocess.run(["bash", "-c", readme_partition_line()], cwd=remote, capture_output=True, text=True)
    assert edit.returncode == 0 and "<gpu-partition>" not in (remote / "profiles/slurm/config.yaml").read_text()
    args = ["--configfile", "config.yaml", "--profile", "profiles/slurm", *CLUSTER_SIZES]
    # Every rule that is not declared local ran as a SLURM job.
    ran = run_on_slurm(remote, args, f"o1p{os.getpid()}")
    runs = 6  # reference, 2 controls, 3 trained runs
    expected = {"toy_reference": 1, "presample_shard": 1, "reference_logprobs": 1, "finetune": 3}
    expected.update(evaluate=runs)  # each run's greedy, sampled and budget-forced decodings
    assert ran == expected
    # Same results as the local run.
    samples = "results/samples/toy-qwen2-smoke/toy/samples.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(smoke / samples), pd.read_parquet(remote / samples))
    for name in ("main_results", "sampled_results", "budget_results"):
        table = f"results/tables/toy-qwen2-smoke/{name}.csv"
        left, right = pd.read_csv(smoke / table), pd.read_csv(remote / table)
        wall = [c for c in left.columns if "wall" in c]
        pd.testing.assert_frame_equal(left.drop(columns=wall), right.drop(columns=wall), obj=name)


# The QwQ config's CPU rehearsal (config/rehearsal.yaml): its model training and fine-tunings use
# both of the node's CPUs (ZeRO-3 in 2 processes), its vLLM jobs one each.
REHEARSAL_SIZES = [
    "--default-resources", f"slurm_partition={PARTITION}", "mem_mb=2000", "runtime=60", "cpus_per_task=1",
    "--set-resources", "rehearsal_reference:cpus_per_task=2", "finetune:cpus_per_task=2",
    "--seconds-between-status-checks", "3", "--slurm-init-seconds-before-status-checks", "6",
]  # fmt: skip


def test_a_gpu_config_rehearses_on_slurm(cluster, tmp_path):
    """The README's rehearsal line of the QwQ config through the SLURM profile: every rule that is
    not local ran as a SLURM job and completed (the rehearsal model, pre-sampling, reference
    log-probs, three fine-tunings under ZeRO-3 in 2 processes, one vLLM evaluation job per run),
    and the run's summary opens with the rehearsal's table of changed keys."""
    root = tmp_path / "rehearsal"
    remote = user_checkout(root / "main")
    (root / "shared").symlink_to(REPO.parent / "shared")  # the real test sets (datasets.sources)
    subprocess.run(["bash", "-c", readme_partition_line()], cwd=remote, check=True)
    configs = ["--configfile", "config/paper_qwq.yaml", "config/rehearsal.yaml"]
    planned = subprocess.run([".venv/bin/snakemake", "-n", *configs], capture_output=True, text=True, cwd=remote)
    stats = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal", planned.stdout + planned.stderr, re.S)
    local = {"all", "prepare_dataset", "presample", "reference_stats", "draw", "rewards", "baseline_trainset", "report"}
    expected = {r: int(n) for r, n in (row.split() for row in stats.group(1).splitlines()) if r not in local}
    assert expected["evaluate"] == 5 and expected["finetune"] == 3, expected
    args = [*configs, "--profile", "profiles/slurm", *REHEARSAL_SIZES]
    assert run_on_slurm(remote, args, f"o1r{os.getpid()}") == expected
    summary = (remote / "results/tables/qwq-32b-preview-rehearsal/summary.md").read_text()
    assert "A CPU rehearsal, not the real run" in summary.split("Greedy decoding", 1)[0], summary[:2000]
