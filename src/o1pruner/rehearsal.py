"""A CPU rehearsal of a real-model config: what changes, and nothing else.

`config/rehearsal.yaml` placed after a shipped GPU config turns `rehearsal.enabled` on; the
workflow then plans the real config with `rehearse(config)` applied. It changes only what cannot
exist on a CPU machine and keeps the rest as the real run has it (rules, methods, controls,
ablations, the data files, the backend, the launcher and sharding, bf16, save dtype, selection,
budget forcing, sampled evaluation, per-set caps, the paper's numbers in the report):

- the model: a tiny model of the same architecture family, made by the workflow (the
  `rehearsal_reference` rule) from the rehearsal tokenizer's folder, real tokenizer and chat
  template included, in a folder named by what it is made from (`model_folder`); the run goes
  under its own name (`<name>-rehearsal`) so its results never mix with the real run's;
- where the data come from: the local copies in `rehearsal.data_dir`;
- sizes: problems, K, n, token caps (budgets and rollout caps scaled with them), the context,
  the batch, trainable layers in proportion to depth, and the processes: one CPU process per
  GPU of a sharded run, no tensor parallelism.

Every change is a row (key, real value, rehearsal value): printed when the workflow plans and
recorded in the report's summary, so a rehearsal is never mistaken for the real run.
Light imports only: `rules/common.smk` imports it while planning.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from . import runs
from .config.inputs import used_splits

SUFFIX = "-rehearsal"
# Where a data set's local copy lives under `rehearsal.data_dir`, where the folder is not its name.
DATA_FOLDERS = {"gaokao": "gaokao2023en"}
# Decoder layers of the real models, to scale `trainable_last_layers` (a local model folder's
# config.json is read instead where there is one).
KNOWN_DEPTHS = {
    "AIDC-AI/Marco-o1": 28,
    "Qwen/QwQ-32B-Preview": 64,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": 28,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B": 28,
}


class Rehearsal:
    """Changes to a config, each recorded with the value it replaced."""

    def __init__(self, config: dict):
        self.config = copy.deepcopy(config)
        self.rows: list[list] = []

    def set(self, dotted: str, value, note: str = "") -> None:
        node = self.config
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        old = node.get(last)
        if old == value:
            return
        node[last] = value
        self.rows.append([dotted, _shown(old), f"{_shown(value)} ({note})" if note else _shown(value)])


def _shown(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _scaled(tokens: int, factor: float, floor: int = 1) -> int:
    return max(floor, round(tokens * factor))


def real_depth(config: dict) -> int | None:
    path = config["model"]["path"]
    local = Path(path) / "config.json"
    if local.is_file():
        return json.loads(local.read_text()).get("num_hidden_layers")
    return KNOWN_DEPTHS.get(path)


def data_file(data_dir: str, dataset: str, split: str) -> tuple[str, str]:
    """(local file, note) of a data set's split; a train split not kept locally is its test file."""
    folder = Path(data_dir) / DATA_FOLDERS.get(dataset, dataset)
    own = folder / f"{split}.jsonl"
    if own.is_file() or split == "test":
        return str(own), ""
    return str(folder / "test.jsonl"), f"no local {split} split: the test file"


def rehearse(config: dict) -> tuple[dict, list[list]]:
    """The config a rehearsal runs (schema defaults filled in), and its rows of changes."""
    r = config["rehearsal"]
    c = Rehearsal(config)
    name = config["model"]["name"]
    c.set("model.name", f"{name}{SUFFIX}")

    counts = {"train": r["train_problems"], "test": r["test_problems"], "validation": r["validation_problems"]}
    for dataset, split in used_splits(config):
        source, note = data_file(r["data_dir"], dataset, split)
        c.set(f"datasets.sources.{dataset}.{split}.source", source, note)
        c.set(f"datasets.sources.{dataset}.{split}.n", counts[split])

    s = config["sampling"]
    sampling_factor = r["max_new_tokens"] / s["max_new_tokens"]
    c.set("sampling.k", min(s["k"], r["samples_per_problem"]))
    c.set("sampling.max_new_tokens", min(s["max_new_tokens"], r["max_new_tokens"]))
    c.set("sampling.gpus_per_shard", 0)

    c.set("vllm.tensor_parallel_size", 1)
    c.set("vllm.max_model_len", r["max_model_len"])
    c.set("vllm.enforce_eager", True, "a tiny model: compiling takes longer than generating")

    _training(c, config, r, sampling_factor)
    _evaluation(c, config, r)
    c.set("resources.threads", r["threads"])
    c.set("model.path", model_folder(c.config), "made by the workflow")
    c.rows.insert(1, c.rows.pop())  # beside model.name
    return c.config, c.rows


def model_folder(config: dict) -> str:
    """Where the `rehearsal_reference` rule makes the tiny model: named by what it is made from
    (its settings and training problems), so rehearsals that make the same model (QwQ's and
    Marco-o1's) train it once, and one that makes another never overwrites it."""
    train = config["datasets"]["train"]
    made_from = {
        **model_settings(config),
        "train": train,
        "problems": config["datasets"]["sources"][train]["train"],
    }
    digest = hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:12]
    return f"results/models/rehearsal-{digest}/reference"


def _training(c: Rehearsal, config: dict, r: dict, sampling_factor: float) -> None:
    t = config["training"]
    sharded = t["distributed"] in ("zero2", "zero3") or t["gpus"] > 1
    c.set("training.gpus", 0)
    if sharded:
        c.set("training.cpu_processes", r["cpu_processes"], f"{t['distributed']} on CPU processes")
    processes = r["cpu_processes"] if sharded else t["cpu_processes"]
    depth = real_depth(config)
    for where, section in [
        ("training", t),
        *((f"training.method_overrides.{m}", o) for m, o in t["method_overrides"].items()),
    ]:
        if section.get("cutoff_len") is not None:
            c.set(f"{where}.cutoff_len", min(section["cutoff_len"], r["cutoff_len"]))
        if section.get("epochs") is not None:
            c.set(f"{where}.epochs", min(section["epochs"], r["epochs"]))
        if section.get("trainable_last_layers"):
            layers = section["trainable_last_layers"]
            # In proportion to depth, and still freezing some layer where the real run freezes some.
            scaled = round(layers * r["num_layers"] / depth) if depth else r["num_layers"] - 1
            if not depth or layers < depth:
                scaled = min(scaled, r["num_layers"] - 1)
            note = f"{layers} of {depth} layers, scaled to {r['num_layers']}" if depth else "real depth unknown"
            c.set(f"{where}.trainable_last_layers", max(1, min(scaled, r["num_layers"])), note)
        if "global_batch_size" in section:
            per_device = section.get("per_device_batch_size", t["per_device_batch_size"])
            batch = max(r["global_batch_size"] // (per_device * processes), 1) * per_device * processes
            c.set(f"{where}.global_batch_size", batch)
    if not any(runs.METHODS[m].trainer == "grpo" for m in t["methods"] if m in runs.METHODS):
        return
    grpo = t["grpo"]
    if grpo.get("max_completion_length"):
        c.set("training.grpo.max_completion_length", _scaled(grpo["max_completion_length"], sampling_factor, 4))
    if grpo.get("hard_cap_tokens"):
        c.set("training.grpo.hard_cap_tokens", _scaled(grpo["hard_cap_tokens"], sampling_factor, 4))
    for method, spec in config["rounds"].items():
        if spec.get("hard_cap_tokens"):
            caps = [_scaled(cap, sampling_factor, 4) for cap in spec["hard_cap_tokens"]]
            c.set(f"rounds.{method}.hard_cap_tokens", caps)


def _evaluation(c: Rehearsal, config: dict, r: dict) -> None:
    e = config["evaluation"]
    cap = e["max_new_tokens"]
    longest = max(cap.values()) if isinstance(cap, dict) else cap
    factor = r["max_new_tokens"] / longest
    if isinstance(cap, dict):
        c.set("evaluation.max_new_tokens", {k: _scaled(v, factor, 8) for k, v in cap.items()})
    else:
        c.set("evaluation.max_new_tokens", min(cap, r["max_new_tokens"]))
    n = e["sampled"]["samples_per_problem"]
    scaled_n = {k: min(v, r["sampled_per_problem"]) for k, v in n.items()}
    c.set("evaluation.sampled.samples_per_problem", scaled_n)
    smallest = min((v for v in scaled_n.values() if v), default=0)
    if smallest:
        c.set("evaluation.sampled.pass_k", sorted({min(k, smallest) for k in e["sampled"]["pass_k"]}))
    b = e["budget_forcing"]
    if b["budgets"]:
        budgets = sorted({_scaled(x, factor, 2) for x in b["budgets"]})
        c.set("evaluation.budget_forcing.budgets", budgets)
        c.set("evaluation.budget_forcing.answer_max_tokens", _scaled(b["answer_max_tokens"], factor, 8))


def model_settings(config: dict) -> dict:
    """What the `rehearsal_reference` rule builds the tiny model from (its params)."""
    r, p = config["rehearsal"], config["prompt"]
    keys = ("tokenizer", "hidden_size", "intermediate_size", "num_layers", "num_heads", "num_kv_heads", "steps")
    return {
        **{k: r[k] for k in keys},
        **{k: r[k] for k in ("learning_rate", "batch_size", "thinking_tokens")},
        "max_positions": r["max_model_len"],
        "dtype": config["model"]["dtype"],  # saved as the real checkpoint is (bf16 weights load exactly)
        "system_prompt": p["system"],
        "thinking_end": p["thinking_end"],
        "seed": config["sampling"]["seed"],
    }


def rows_table(rows: list[list]) -> str:
    """The rows as text: printed when a rehearsal is planned."""
    width = max((len(k) for k, _, _ in rows), default=0)
    lines = ["rehearsal: a CPU rehearsal, not the real run; changed keys (real -> rehearsal):"]
    lines += [f"  {k:<{width}}  {real}  ->  {new}" for k, real, new in rows]
    return "\n".join(lines) + "\n"
