"""`scripts/gpu-check.sh`, the script a lent GPU machine runs first, runs here on CPU (the same
code path, slowly): it must not rot between the sessions that have a GPU."""

import os
import subprocess
import sys

import pytest
from helpers import REPO


def test_the_gpu_check_script_runs_and_passes_on_cpu():
    run = subprocess.run(
        ["bash", "scripts/gpu-check.sh"],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    lines = run.stdout.splitlines()
    starts = (
        "precision mixed:",
        "precision pure:",
        "pre-sampling:",
        "greedy evaluation:",
        "grpo:",
        "vLLM seeds on CUDA:",
    )
    starts += ("real dimensions:",)
    for start in starts:
        assert any(line.startswith(start) for line in lines), f"no {start!r} line in:\n{run.stdout}"
    assert "UNEXPECTED" not in run.stdout
    assert " s on cpu (CPU (no GPU found))" in next(line for line in lines if line.startswith("grpo:"))
    real = next(line for line in lines if line.startswith("real dimensions:"))
    assert "vocabulary 151936) on cpu" in real and real.endswith("-> ok"), real
    assert "vLLM seeds on CUDA: not checked (no CUDA GPU)" in run.stdout  # says why, and passes
    assert lines[-1] == "gpu-check: passed"


@pytest.mark.skipif(not (REPO / ".venv-vllm/bin/o1pruner").exists(), reason="needs .venv-vllm (setup.sh --vllm)")
def test_the_vllm_seed_check_fails_where_the_engine_has_no_per_request_seeds(tmp_path):
    """The GPU check's vLLM step, run against vLLM's CPU build, whose platform takes no
    per-request seeds (the backend seeds each job's engine instead): one job and two shards
    sample differently, and the check says so. On CUDA it passes only if the seeds hold."""
    sys.path.insert(0, str(REPO / "scripts"))
    import gpu_check

    assert gpu_check.vllm_check(tmp_path / "vllm", cuda=True) is False
