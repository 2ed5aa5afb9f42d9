"""Atomic writes (io.atomic_path): a writer that fails or is killed halfway leaves no file under
the output's name, so Snakemake never takes a half-written artifact for a finished one."""

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

from o1pruner.io import atomic_path, write_parquet

# Writes half of the output, says so on stdout, then waits to be killed (a node crash mid-write).
KILLED_WRITER = """
import sys, time
from pathlib import Path
from o1pruner.io import atomic_path

path, how = Path(sys.argv[1]), sys.argv[2]
if how == "atomic":
    context = atomic_path(path)
    target = context.__enter__()
else:  # what a plain open(path, "w") does
    target = path
with open(target, "w") as f:
    f.write("half of the rows\\n")
    f.flush()
    print("written", flush=True)
    time.sleep(60)
"""


def _kill_mid_write(path, how: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), how], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_writer_killed_mid_write_leaves_no_output(tmp_path):
    out = tmp_path / "samples.jsonl"
    _kill_mid_write(out, "atomic")
    assert not out.exists()
    # What is left is a hidden temporary folder, which no rule names as an output.
    assert all(p.name.startswith(".samples.jsonl.") and p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_a_plain_write_killed_mid_write_leaves_a_half_file():
    """Negative case: without the temporary name the killed writer leaves a file under the
    output's own name, which a rerun would take as finished."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "samples.jsonl"
        _kill_mid_write(out, "plain")
        assert out.read_text() == "half of the rows\n"


def test_a_failing_writer_leaves_neither_output_nor_temporary_files(tmp_path):
    out = tmp_path / "stats.parquet"
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_a_finished_write_replaces_the_old_output_whole(tmp_path):
    out = tmp_path / "table.parquet"
    write_parquet(pd.DataFrame({"x": [1, 2]}), out)
    write_parquet(pd.DataFrame({"x": [3]}), out, {"stage": "test"})
    assert pd.read_parquet(out)["x"].tolist() == [3]
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]
