"""Sharded pre-sampling: the merged samples do not depend on the number of shards, and a
re-run after a crash recomputes only the shards that did not finish."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import presample_args, presample_settings, snakemake_cmd

from o1pruner.cli import main
from o1pruner.stages import shard_range

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("n_problems,per_batch,shards", [(10, 3, 4), (7, 2, 3), (5, 2, 3), (12, 4, 1)])
def test_shards_cover_every_problem_once_in_whole_batches(n_problems, per_batch, shards):
    covered = []
    for s in range(shards):
        start, end, first_batch = shard_range(n_problems, per_batch, s, shards)
        assert start == first_batch * per_batch
        covered += list(range(start, end))
    assert covered == list(range(n_problems))


def test_one_and_four_shards_give_byte_identical_samples(tiny_model, tmp_path):
    model, problems = tiny_model
    settings = presample_settings(k=3, temperature=1.0, top_p=1.0, max_new_tokens=24, batch_size=6, seed=5)

    def run(n: int) -> bytes:
        parts = []
        for s in range(n):
            part = tmp_path / f"{n}-{s}.parquet"
            args = presample_args(
                model,
                problems,
                settings,
                part,
                "--shard",
                str(s),
                "--num-shards",
                str(n),
                "--threads",
                "1",
            )
            assert main(args) == 0
            parts.append(str(part))
        merged = tmp_path / f"merged-{n}.parquet"
        assert main(["merge-samples", "--shards", *parts, "--out", str(merged)]) == 0
        return merged.read_bytes()

    assert run(1) == run(4)


@pytest.mark.slow
def test_killed_sampling_reruns_only_unfinished_shards_and_matches_an_unkilled_run(smoke, tmp_path):
    """SIGKILL the whole run (as a node crash would) while 4 pre-sampling shards run, in a second,
    independent run of the shared smoke run's config (its toy reference trained before the kill).
    Nothing the killed jobs wrote looks complete; after `--unlock` the re-run recomputes only the
    shards that did not finish, and its samples and O1-Pruner training set equal the unkilled
    run's (one shard there)."""
    from test_workflow import TRAINSET, _assert_same_data

    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    cfg["sampling"].update(shards=4)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    base = snakemake_cmd(tmp_path, tmp_path / "config.yaml", "--cores", "1")
    target = "results/samples/toy-qwen2-smoke/toy/samples.parquet"
    shards = tmp_path / "results/samples/toy-qwen2-smoke/toy/shards"
    out = (tmp_path / "first-run.log").open("w")
    proc = subprocess.Popen([*base, target], stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)

    def finished() -> int:
        return (tmp_path / "first-run.log").read_text().count("(Rule: presample_shard)")

    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and finished() < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    out.close()
    n_finished = finished()
    assert 2 <= n_finished < 4, n_finished
    # A file under a shard's name is a whole one (tests/test_io.py kills a writer mid-write: the
    # atomic rename keeps a half-written file from the name); the merge never started.
    for shard in shards.glob("*.parquet"):
        assert len(pd.read_parquet(shard)) > 0, shard
    assert not (tmp_path / target).exists()
    before = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.parquet")}
    assert subprocess.run([*base, "--unlock"], capture_output=True, cwd=tmp_path).returncode == 0
    rerun = subprocess.run([*base, target, TRAINSET], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # Shards that Snakemake saw finish are kept; the one killed in flight and those not started run.
    assert (rerun.stdout + rerun.stderr).count("rule presample_shard:") == 4 - n_finished
    kept = [n for n, t in before.items() if (shards / n).stat().st_mtime_ns == t]
    assert len(kept) >= n_finished
    _assert_same_data(smoke, tmp_path)
    shutil.rmtree(tmp_path / "results", ignore_errors=True)


def test_a_shard_without_a_batch_is_a_clear_error():
    """With more shards than generation batches some shard would get no problems (it crashed
    mid-job before); the workflow refuses this when planning where it knows the problem count."""
    from o1pruner.io import InputError

    assert shard_range(16, 4, 1, 4) == (4, 8, 1)
    with pytest.raises(InputError, match=r"sampling.shards 2 is more than the 1 generation batch\(es\) of 16"):
        shard_range(16, 16, 0, 2)
