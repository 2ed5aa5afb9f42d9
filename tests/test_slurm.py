"""A GPU config's CPU rehearsal on a real single-node SLURM cluster (../shared/tools/local-slurm.sh)
through the shipped profile, `profiles/slurm`, set up as the README has a user do it: `bash
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
import subprocess

import pandas as pd
import pytest
from helpers import LOCAL_SLURM, REPO, local_slurm, run_in_checkout, user_checkout

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


# The README's rehearsal line of the QwQ config (config/rehearsal.yaml): its model training and
# fine-tunings use both of the node's CPUs (ZeRO-3 in 2 processes), its vLLM jobs one each.
REHEARSAL = ".venv/bin/snakemake --cores all --configfile config/paper_qwq.yaml config/rehearsal.yaml"
REHEARSAL_SIZES = [
    "--default-resources", f"slurm_partition={PARTITION}", "mem_mb=2000", "runtime=60", "cpus_per_task=1",
    "--set-resources", "rehearsal_reference:cpus_per_task=2", "finetune:cpus_per_task=2",
    "--seconds-between-status-checks", "3", "--slurm-init-seconds-before-status-checks", "6",
]  # fmt: skip
NAME = "qwq-32b-preview-rehearsal"


def test_a_gpu_config_rehearses_on_slurm_as_it_does_locally(cluster, docs_checkout, tmp_path):
    """The README's rehearsal line of the QwQ config through the SLURM profile: every rule that is
    not local ran as a SLURM job and completed (the rehearsal model, pre-sampling, reference
    log-probs, three fine-tunings under ZeRO-3 in 2 processes, one vLLM evaluation job per run),
    the run's summary opens with the rehearsal's table of changed keys, and everything it made
    equals the same line run locally (tests/test_documented_commands.py runs it in the shared
    copy of the documented commands; run there first where that test did not): the model, the
    samples, the training sets, every fine-tuned checkpoint, the responses and the tables."""
    assert REHEARSAL in (REPO / "README.md").read_text()
    local = docs_checkout
    if not (local / f"results/tables/{NAME}/summary.md").exists():
        ran = run_in_checkout(REHEARSAL, local, timeout=1800)
        assert ran.returncode == 0, (ran.stdout + ran.stderr)[-4000:]
    root = tmp_path / "rehearsal"
    remote = user_checkout(root / "main")
    (root / "shared").symlink_to(REPO.parent / "shared")  # the real test sets (datasets.sources)
    subprocess.run(["bash", "-c", readme_partition_line()], cwd=remote, check=True)
    configs = shlex.split(REHEARSAL)[3:]
    planned = subprocess.run([".venv/bin/snakemake", "-n", *configs], capture_output=True, text=True, cwd=remote)
    stats = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal", planned.stdout + planned.stderr, re.S)
    local_rules = {
        "all",
        "prepare_dataset",
        "presample",
        "reference_stats",
        "draw",
        "rewards",
        "baseline_trainset",
        "report",
    }
    expected = {r: int(n) for r, n in (row.split() for row in stats.group(1).splitlines()) if r not in local_rules}
    assert expected["evaluate"] == 5 and expected["finetune"] == 3, expected
    args = [*configs, "--profile", "profiles/slurm", *REHEARSAL_SIZES]
    assert run_on_slurm(remote, args, f"o1r{os.getpid()}") == expected
    summary = (remote / f"results/tables/{NAME}/summary.md").read_text()
    assert "A CPU rehearsal, not the real run" in summary.split("Greedy decoding", 1)[0], summary[:2000]
    # The same results as the local run, bit for bit (weights) and value for value (tables).
    patterns = [
        "results/models/rehearsal-*/reference/*.safetensors",
        f"results/checkpoints/{NAME}/*/*/*.safetensors",
        f"results/**/{NAME}/**/*.parquet",
    ]
    made = sorted(p.relative_to(remote) for pattern in patterns for p in remote.glob(pattern))
    assert len([p for p in made if p.suffix == ".safetensors"]) == 4, made  # the model, 3 fine-tunings
    different = [str(p) for p in made if (local / p).read_bytes() != (remote / p).read_bytes()]
    parquet = [p for p in different if p.endswith(".parquet")]
    for path in parquet:  # parquet metadata may differ; the values may not
        pd.testing.assert_frame_equal(pd.read_parquet(local / path), pd.read_parquet(remote / path), obj=path)
    assert not [p for p in different if p not in parquet], different
    for table in ("main_results", "per_run"):
        left, right = (pd.read_csv(r / f"results/tables/{NAME}/{table}.csv") for r in (local, remote))
        wall = [c for c in left.columns if "wall" in c]
        pd.testing.assert_frame_equal(left.drop(columns=wall), right.drop(columns=wall), obj=table)
