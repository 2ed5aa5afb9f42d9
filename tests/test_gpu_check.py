"""`scripts/gpu-check.sh`, the script a lent GPU machine runs first, runs here on CPU (the same
code path, slowly): it must not rot between the sessions that have a GPU."""

import os
import subprocess
import sys

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
    starts = ("precision mixed:", "precision pure:", "pre-sampling:", "greedy evaluation:", "grpo:", "real dimensions:")
    for start in starts:
        assert any(line.startswith(start) for line in lines), f"no {start!r} line in:\n{run.stdout}"
    assert "UNEXPECTED" not in run.stdout
    assert " s on cpu (CPU (no GPU found))" in next(line for line in lines if line.startswith("grpo:"))
    real = next(line for line in lines if line.startswith("real dimensions:"))
    assert "vocabulary 151936) on cpu" in real and real.endswith("-> ok"), real
    assert lines[-1] == "gpu-check: passed"
