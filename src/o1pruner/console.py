"""What a running job shows where the user is looking.

A workflow job writes everything (logging, tqdm bars, library warnings, C-level output) to its
log file, and a short line per stage and a progress line at most once a minute to the console:
Snakemake's terminal locally, the job's output file under SLURM. `o1pruner --log-file FILE ...`
sets this up; run by hand without `--log`, everything goes to the terminal as usual and the
console lines are not repeated.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from .distributed import is_main_process

# Seconds between two progress lines of one bar on the console (the log gets the full bar).
PROGRESS_INTERVAL_S = float(os.environ.get("O1PRUNER_PROGRESS_INTERVAL", "60"))

_console = None
_job = "o1pruner"


def redirect_to_log(path: str, job: str) -> None:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to `path`; keep the
    original stderr as the console."""
    global _console, _job
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Under a multi-process launcher every rank writes to the one log; only rank 0 talks to the console.
    rank0 = is_main_process()
    mode = os.O_TRUNC if rank0 else os.O_APPEND
    console_fd = os.dup(2)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    if rank0:
        _console = os.fdopen(console_fd, "w", buffering=1)
    else:
        os.close(console_fd)
    _job = job


def say(message: str) -> None:
    """One line on the console (when output goes to a log) and in the log."""
    print(message, file=sys.stderr, flush=True)
    if _console is not None:
        _console.write(f"[{time.strftime('%H:%M:%S')}] {_job}: {message}\n")


class Progress(tqdm):
    """A tqdm bar (in the log) that also prints a line to the console at most every
    PROGRESS_INTERVAL_S seconds, and once when it closes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("mininterval", 5)
        super().__init__(*args, **kwargs)
        self._console_at = time.monotonic()

    def _console_line(self) -> str:
        d = self.format_dict
        total, n, elapsed = d["total"], d["n"], d["elapsed"]
        line = f"{d.get('prefix') or 'progress'}: {n}/{total or '?'}"
        if total:
            line += f" ({100 * n / total:.0f}%)"
        line += f", {tqdm.format_interval(elapsed)} elapsed"
        if total and n and n < total:
            line += f", ~{tqdm.format_interval(elapsed * (total - n) / n)} left"
        if d.get("postfix"):
            line += f" [{d['postfix']}]"
        return line

    def update(self, n=1):
        out = super().update(n)
        if _console is not None and time.monotonic() - self._console_at >= PROGRESS_INTERVAL_S:
            self._console_at = time.monotonic()
            say(self._console_line())
        return out

    def close(self):
        if _console is not None and not self.disable and getattr(self, "_console_at", None) is not None:
            self._console_at = None
            say(self._console_line())
        super().close()


def trainer_progress_callback():
    """A transformers TrainerCallback that reports optimiser steps like `Progress` does."""
    from transformers import TrainerCallback

    class ConsoleProgress(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self._start = self._last = time.monotonic()
            say(f"training: {state.max_steps} optimiser steps")

        def on_log(self, args, state, control, logs=None, **kwargs):
            self._loss = (logs or {}).get("loss", getattr(self, "_loss", None))

        def on_step_end(self, args, state, control, **kwargs):
            now = time.monotonic()
            if now - self._last >= PROGRESS_INTERVAL_S:
                self._last = now
                elapsed = now - self._start
                left = elapsed * (state.max_steps - state.global_step) / max(1, state.global_step)
                loss = getattr(self, "_loss", None)
                say(
                    f"training: step {state.global_step}/{state.max_steps}, {tqdm.format_interval(elapsed)} "
                    f"elapsed, ~{tqdm.format_interval(left)} left" + (f", loss {loss:.4f}" if loss is not None else "")
                )

        def on_train_end(self, args, state, control, **kwargs):
            say(f"training: done, {state.global_step} steps in {tqdm.format_interval(time.monotonic() - self._start)}")

    return ConsoleProgress()
