"""Grading throughput over the MATH-500 gold answers: graded samples per second.

Each gold answer is graded twice, against a response boxing an equivalent rewrite (so the
symbolic path runs, not the string shortcut) and against a response boxing another problem's
answer. Goal: >= 500 graded samples/s on 2 cores.

    python benchmarks/grading_throughput.py [--data ../shared/data/math500/test.jsonl] [--workers 2]
"""

import argparse
import time
from pathlib import Path

from o1pruner.datasets import normalise, read_source
from o1pruner.grading import grade_many

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "math500" / "test.jsonl"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(DEFAULT))
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    golds = [r["answer"] for r in normalise("math500", read_source(a.data))]
    responses = [f"So the answer is $\\boxed{{\\displaystyle {g}}}$." for g in golds]  # no string shortcut
    responses += [f"I get \\boxed{{{golds[(i + 1) % len(golds)]}}}." for i in range(len(golds))]
    targets = golds + golds
    for workers in sorted({1, a.workers}):
        start = time.perf_counter()
        grades = grade_many(responses, targets, workers=workers)
        dt = time.perf_counter() - start
        right = sum(g.correct for g in grades[: len(golds)])
        wrong = sum(g.correct for g in grades[len(golds) :])
        print(
            f"{workers} worker(s): {len(grades)} samples in {dt:.2f} s = {len(grades) / dt:.0f} samples/s "
            f"(self-match {right}/{len(golds)}, cross-match {wrong}/{len(golds)}) (goal >= 500/s)"
        )


if __name__ == "__main__":
    main()
