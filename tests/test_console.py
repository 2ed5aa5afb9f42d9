"""A workflow job logs everything to its log file and shows stage and progress lines on the
console, where the user is looking."""

import os
import subprocess
import sys


def test_job_prints_stages_and_progress_to_the_console_and_all_else_to_its_log(tmp_path):
    script = (
        "import logging, sys\n"
        "from o1pruner.console import Progress, redirect_to_log, say\n"
        f"redirect_to_log({str(tmp_path / 'logs/x/job.log')!r}, 'demo job')\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "say('stage one')\n"
        "logging.getLogger('o1pruner').info('detail only for the log')\n"
        "print('stdout only for the log')\n"
        "for _ in Progress(range(3), desc='steps'):\n"
        "    pass\n"
    )
    env = {**os.environ, "O1PRUNER_PROGRESS_INTERVAL": "0"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    console = run.stderr
    assert "demo job: stage one" in console
    assert "demo job: steps: 3/3 (100%)" in console
    assert "detail only" not in console and "stdout only" not in console and run.stdout == ""
    log = (tmp_path / "logs/x/job.log").read_text()
    assert "detail only for the log" in log and "stdout only for the log" in log and "stage one" in log


def test_cli_log_option_reports_start_done_and_errors(tmp_path):
    log = tmp_path / "logs" / "reference_stats" / "m" / "d.log"
    cmd = [sys.executable, "-m", "o1pruner.cli", "--log-file", str(log), "reference-stats"]
    cmd += ["--samples", str(tmp_path / "none.parquet"), "--out", str(tmp_path / "o.parquet")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "started (log:" in run.stderr and "error:" in run.stderr and "none.parquet" in run.stderr
    assert "none.parquet" in log.read_text()
