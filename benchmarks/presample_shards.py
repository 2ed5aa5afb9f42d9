"""Pre-sampling wall time: 1 shard with 2 threads vs 2 shards run in parallel with 1 thread each.

Uses the trained toy reference if given (else a random-init toy model) and the toy train split.
Prints both wall times and their ratio (goal: the 2-shard run is not slower; on 2 cores it
gains from running two single-threaded generate loops side by side).

    python benchmarks/presample_shards.py [--model results/models/toy-qwen2/reference]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _toy import SYSTEM, toy_setup


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--problems", type=int, default=96)
    p.add_argument("--k", type=int, default=8)
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shards-"))
    model_path = a.model
    if not model_path:
        model, tok, _, _ = toy_setup(None, 8)
        model_path = str(work / "model")
        model.save_pretrained(model_path)
        tok.save_pretrained(model_path)
    _, _, _, train = toy_setup(None, 8)
    problems = work / "problems.jsonl"
    problems.write_text(
        "".join(
            json.dumps({"id": f"p{i}", "problem": r["problem"], "answer": r["answer"]}) + "\n"
            for i, r in enumerate(train[: a.problems])
        )
    )
    settings = json.dumps(
        {
            "k": a.k,
            "temperature": 1.0,
            "top_p": 1.0,
            "max_new_tokens": 128,
            "batch_size": 128,
            "seed": 0,
            "system_prompt": SYSTEM,
            "answer_box": "last",
            "dtype": "float32",
            "trust_remote_code": False,
            "backend": "transformers",
            "vllm": None,
        }
    )

    def run(n: int, threads: int) -> float:
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "o1pruner.cli",
                    "presample",
                    "--model",
                    model_path,
                    "--problems",
                    str(problems),
                    "--settings",
                    settings,
                    "--out",
                    str(work / f"{n}-{s}.parquet"),
                    "--shard",
                    str(s),
                    "--num-shards",
                    str(n),
                    "--threads",
                    str(threads),
                ],
                stderr=subprocess.DEVNULL,
            )
            for s in range(n)
        ]
        assert all(proc.wait() == 0 for proc in procs)
        return time.perf_counter() - start

    one = run(1, 2)
    two = run(2, 1)
    print(f"1 shard, 2 threads:              {one:6.1f} s")
    print(f"2 shards in parallel, 1 thread:  {two:6.1f} s")
    print(f"ratio 1-shard / 2-shard wall time: {one / two:.2f}x")


if __name__ == "__main__":
    main()
