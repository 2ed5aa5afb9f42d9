"""The compute ledger: what each method's pruning cost against what it saves at inference.

Per method (mean over its seeds), from the files the plan names (`ledger_plan`):

- cost, measured: wall time and CPU time of every job that produced the run (Snakemake's
  `benchmark:` files: `s`, `cpu_time`) and its device-seconds, wall time x the devices the job
  held (its GPUs; a job without GPUs counts as one device: the machine it ran on); GPU-hours
  count GPU jobs only. The reference's pre-sampling counts in full for every method whose data
  needs it (it is shared, so methods run together pay it once: `presample_wall_s` says how much
  of the total it is), and a method picked on the validation split also pays every grid point
  it trained and validated;
- tokens: generated in pre-sampling, generated in GRPO rollouts, and trained on (the training
  set's response tokens x epochs; a rollout is trained on once);
- savings: greedy tokens saved per test problem against the reference (mean over test sets),
  the seconds that saves at the reference's own measured generation speed, and the
  device-seconds (those seconds x the evaluation job's devices);
- break-even: how many problems must be answered before the saved inference device-seconds
  have paid for the training side's (`never` where the method does not shorten answers):
  device-seconds, not wall time, since fine-tuning on 8 GPUs and evaluating on one are not the
  same second;
- what the savings cost: the change in greedy accuracy against the reference (points, mean over
  test sets), beside the break-even, since a time saving bought with accuracy is not a saving.

A round of an iterated method (`<method>_r<N>`) carries the cost and tokens of the rounds
before it: its checkpoint exists only because they ran.

With `ledger.generation_tokens_per_s` and `ledger.training_tokens_per_s` (e.g. a paper config's
GPUs), the same from token counts: estimated training-side hours and the break-even at that speed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..runs import REFERENCE, label


def read_benchmark(path: str) -> dict | None:
    """Wall and CPU seconds of one benchmark file (its last line); None if the job left none."""
    p = Path(path)
    if not p.exists():
        return None
    row = pd.read_csv(p, sep="\t").iloc[-1]
    cpu = float(row["cpu_time"]) if "cpu_time" in row and pd.notna(row["cpu_time"]) else float("nan")
    return {"wall_s": float(row["s"]), "cpu_s": cpu}


NO_COST = {"wall_s": 0.0, "cpu_s": 0.0, "gpu_s": 0.0, "device_s": 0.0, "missing": 0}


def _jobs_cost(jobs: list[tuple[str, int]]) -> dict:
    """Summed cost of (benchmark file, GPUs of its job) pairs; a missing file is counted."""
    cost = dict(NO_COST)
    for path, gpus in jobs:
        b = read_benchmark(path)
        if b is None:
            cost["missing"] += 1
            continue
        cost["wall_s"] += b["wall_s"]
        cost["cpu_s"] += b["cpu_s"]
        cost["gpu_s"] += b["wall_s"] * gpus
        cost["device_s"] += b["wall_s"] * max(gpus, 1)
    return cost


def trained_tokens(trainset_path: str, checkpoint: str, trainer: str, epochs: float) -> tuple[float, float]:
    """(tokens trained on, tokens generated in rollouts) of one run."""
    if trainer == "grpo":
        path = Path(checkpoint) / "rollouts.parquet"
        rollout = float(pd.read_parquet(path, columns=["n_tokens"])["n_tokens"].sum()) if path.exists() else math.nan
        return rollout, rollout
    if not Path(trainset_path).exists():
        return math.nan, 0.0
    pairs = ["chosen_tokens", "rejected_tokens"]
    columns = pairs if set(pairs) <= set(pq.read_schema(trainset_path).names) else ["n_tokens"]
    per_epoch = float(pd.read_parquet(trainset_path, columns=columns).to_numpy().sum())
    return per_epoch * epochs, 0.0


def _tokens(samples_path: str) -> float:
    """Generated tokens in a samples file (NaN where it is missing)."""
    p = Path(samples_path)
    return float(pd.read_parquet(p, columns=["n_tokens"])["n_tokens"].sum()) if p.exists() else math.nan


def _resolve_pick(entry: dict) -> tuple[dict, list[str]]:
    """For a method picked on validation: the picked grid point's files, and every grid point's
    selection jobs (what the pick cost)."""
    if "pick" not in entry:
        return entry, []
    picked = json.loads(Path(entry["pick"]).read_text())["picked_method"]
    files = {**entry, **entry["grid"][picked]}
    selection = [(b["path"], b["gpus"]) for g in entry["grid"].values() for b in g["selection_benchmarks"]]
    return files, selection


def _savings(main: pd.DataFrame, method: str) -> tuple[float, float, float]:
    """(greedy tokens saved per test problem, seconds that saves, accuracy change in points)
    against the reference, mean over test sets; seconds at the reference's measured tokens per
    second on each set."""
    per_set = main[main["dataset"] != "average"]
    ref = per_set[per_set["method"] == REFERENCE].set_index("dataset")
    run = per_set[per_set["method"] == method].set_index("dataset")
    common = ref.index.intersection(run.index)
    if common.empty:
        return math.nan, math.nan, math.nan
    saved = ref.loc[common, "mean_tokens"] - run.loc[common, "mean_tokens"]
    tokens_per_s = ref.loc[common, "mean_tokens"] * ref.loc[common, "n_problems"] / ref.loc[common, "wall_time_s"]
    accuracy = (run.loc[common, "accuracy"] - ref.loc[common, "accuracy"]).mean()
    return float(saved.mean()), float((saved / tokens_per_s).mean()), float(accuracy)


def ledger_table(plan: dict, main: pd.DataFrame) -> pd.DataFrame:
    """One row per trained method (see the module docstring)."""
    pre = plan["presample"]
    pre_cost = _jobs_cost([(p, pre["gpus"]) for p in pre["benchmarks"]])
    eval_devices = max(plan.get("evaluation_gpus", 1), 1)
    pre_tokens = _tokens(pre["samples"])
    gen_tps = plan["throughput"].get("generation_tokens_per_s")
    train_tps = plan["throughput"].get("training_tokens_per_s")
    rows, done = [], {}
    for entry in plan["methods"]:
        files, selection_jobs = _resolve_pick(entry)
        per_seed = []
        for seed in entry["seeds"]:
            jobs = [(files["finetune_benchmark"].format(seed=seed), entry["gpus"])]
            jobs += [(b["path"].format(seed=seed), b["gpus"]) for b in files["data_benchmarks"]]
            cost = _jobs_cost(jobs)
            trained, rollout = trained_tokens(
                files["trainset"].format(seed=seed), files["checkpoint"].format(seed=seed), entry["trainer"],
                entry["epochs"],
            )  # fmt: skip
            resampled = _tokens(files["round_samples"].format(seed=seed)) if "round_samples" in files else 0.0
            per_seed.append({**cost, "trained_tokens": trained, "rollout_tokens": rollout, "round_tokens": resampled})
        seeds = pd.DataFrame(per_seed)
        select_cost = _jobs_cost(selection_jobs)
        shared = pre_cost if entry["uses_presamples"] else NO_COST
        train_wall = float(seeds["wall_s"].mean())
        total_wall = train_wall + select_cost["wall_s"] + shared["wall_s"]
        total_device_s = float(seeds["device_s"].mean()) + select_cost["device_s"] + shared["device_s"]
        saved_tokens, saved_s, accuracy_change = _savings(main, entry["method"])
        row = {
            "method": entry["method"],
            "label": label(entry["method"]),
            "n_seeds": len(seeds),
            "train_wall_s": train_wall,
            "selection_wall_s": select_cost["wall_s"],
            "presample_wall_s": shared["wall_s"],
            "total_wall_s": total_wall,
            "device_hours": total_device_s / 3600,
            "cpu_hours": (float(seeds["cpu_s"].mean()) + select_cost["cpu_s"] + shared["cpu_s"]) / 3600,
            "gpu_hours": (float(seeds["gpu_s"].mean()) + select_cost["gpu_s"] + shared["gpu_s"]) / 3600,
            "presample_tokens": (pre_tokens if entry["uses_presamples"] else 0.0) + float(seeds["round_tokens"].mean()),
            "rollout_tokens": float(seeds["rollout_tokens"].mean()),
            "trained_tokens": float(seeds["trained_tokens"].mean()),
            "tokens_saved_per_problem": saved_tokens,
            "seconds_saved_per_problem": saved_s,
            "device_seconds_saved_per_problem": saved_s * eval_devices,
            "break_even_problems": _break_even(total_device_s, saved_s * eval_devices),
            "accuracy_change_points": accuracy_change,
            "missing_benchmarks": int(seeds["missing"].sum() + select_cost["missing"] + shared["missing"]),
        }
        before = done.get(entry.get("previous_round"))
        if before is not None:  # the rounds before this one (the shared pre-sampling is in them)
            row["total_wall_s"] += before["total_wall_s"] - shared["wall_s"]
            for key in ("device_hours", "cpu_hours", "gpu_hours"):
                row[key] += before[key] - shared[key.replace("_hours", "_s")] / 3600
            for key in ("rollout_tokens", "trained_tokens"):
                row[key] += before[key]
            row["presample_tokens"] += before["presample_tokens"] - (pre_tokens if entry["uses_presamples"] else 0.0)
            row["break_even_problems"] = _break_even(row["device_hours"] * 3600, saved_s * eval_devices)
        if gen_tps and train_tps:
            est = (row["presample_tokens"] + row["rollout_tokens"]) / gen_tps + row["trained_tokens"] / train_tps
            row["est_train_hours"] = est / 3600
            row["est_break_even_problems"] = _break_even(est, saved_tokens / gen_tps)
        done[entry["method"]] = row
        rows.append(row)
    return pd.DataFrame(rows)


def _break_even(cost_s: float, saved_s_per_problem: float) -> float:
    """Problems after which the saved inference time equals the cost (inf: it never does)."""
    if not np.isfinite(saved_s_per_problem) or not np.isfinite(cost_s):
        return math.nan
    return cost_s / saved_s_per_problem if saved_s_per_problem > 0 else math.inf
