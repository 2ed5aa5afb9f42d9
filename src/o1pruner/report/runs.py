"""Run names: `baseline`, a control such as `marker_ban`, or `<method>-seed<N>`."""

from __future__ import annotations


def split_run(run: str) -> tuple[str, int | None]:
    if "-seed" in run:
        method, seed = run.rsplit("-seed", 1)
        return method, int(seed)
    return run, None


def run_method(run: str) -> str:
    return split_run(run)[0]
