"""`o1pruner <stage>`: the one command-line entry point that every workflow rule calls.

Each stage takes its inputs and outputs as paths and its settings as a JSON object (the
matching section of the workflow config), so a rule's `params` are exactly what its output
depends on, and a researcher can run any stage by hand.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .io import InputError


def _settings(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"--settings is not valid JSON: {e.msg}") from None
    if not isinstance(value, dict):
        raise InputError("--settings must be a JSON object")
    return value


def cmd_toy_data(a) -> None:
    from .toy.build import write_toy_splits

    write_toy_splits(a.settings, a.train, a.test)


def cmd_toy_reference(a) -> None:
    from .toy.build import build_reference

    build_reference(a.settings, a.test, a.out, a.threads)


def cmd_prepare(a) -> None:
    from .datasets import prepare

    rows = prepare(a.dataset, a.source, a.split, a.out, a.n, a.seed)
    print(f"{len(rows)} problems -> {a.out}")


def cmd_presample(a) -> None:
    from .stages import presample

    presample(a.model, a.problems, a.settings, a.out, a.threads, a.shard, a.num_shards)


def cmd_merge_samples(a) -> None:
    from .stages import merge_samples

    merge_samples(a.shards, a.out)


def cmd_baseline(a) -> None:
    from .stages import baseline_stats

    baseline_stats(a.samples, a.out)


def cmd_trainset(a) -> None:
    from .stages import trainset

    trainset(a.samples, a.stats, a.settings, a.out)


def cmd_select(a) -> None:
    from .stages import select_baseline_data

    select_baseline_data(a.method, a.samples, a.m, a.out)


def cmd_ref_logprobs(a) -> None:
    from .stages import reference_logprobs

    reference_logprobs(a.model, a.trainset, a.problems, a.settings, a.out, a.threads)


def cmd_train(a) -> None:
    from .stages import finetune

    finetune(a.method, a.model, a.trainset, a.problems, a.settings, a.seed, a.out, a.threads)


def cmd_evaluate(a) -> None:
    from .stages import evaluate

    evaluate(a.model, a.problems, a.settings, a.run, a.out, a.metrics, a.threads)


def cmd_report(a) -> None:
    from .report.build import build_report

    build_report(a.metrics, a.samples, a.reference_run, a.out_dir, a.figures_dir, a.provenance, a.presamples, a.markers)


def cmd_aes(a) -> None:
    import pandas as pd

    from .aes import score_table
    from .io import atomic_path

    try:
        scored = score_table(pd.read_csv(a.table), a.reference_method)
    except ValueError as e:
        raise InputError(f"{a.table}: {e}") from None
    with atomic_path(a.out) as tmp:
        scored.to_csv(tmp, index=False)
    print(scored.to_string(index=False))


def cmd_readme(a) -> None:
    from .report.readme import splice_results

    splice_results(a.summary, a.readme, a.block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="o1pruner", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_)
        p.set_defaults(func=func)
        return p

    p = add("toy-data", cmd_toy_data, "generate the toy train/test problems")
    p.add_argument("--settings", type=_settings, required=True, help="the config's `toy` section (JSON)")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)

    p = add("toy-reference", cmd_toy_reference, "train the toy reference model from scratch")
    p.add_argument("--settings", type=_settings, required=True, help="`toy` and `prompt` sections (JSON)")
    p.add_argument("--test", required=True, help="test problems, excluded from its training data")
    p.add_argument("--out", required=True)

    p = add("prepare", cmd_prepare, "normalise a benchmark (local file or hub id) to the workflow's JSONL")
    p.add_argument("dataset", help="math, math500, gsm8k, gaokao, aime24 or amc23")
    p.add_argument("--source", required=True, help="local JSONL/JSON/Parquet file or hub id")
    p.add_argument("--split", default="test")
    p.add_argument("--out", required=True)
    p.add_argument("-n", type=int, default=None, help="keep n problems: seeded shuffle, first n")
    p.add_argument("--seed", type=int, default=0)

    p = add("presample", cmd_presample, "K samples per problem from the reference model")
    p.add_argument("--model", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument("--settings", type=_settings, required=True)
    p.add_argument("--out", required=True)

    p.add_argument("--shard", type=int, default=0, help="this job's shard (0-based)")
    p.add_argument("--num-shards", type=int, default=1)

    p = add("merge-samples", cmd_merge_samples, "concatenate pre-sampling shards")
    p.add_argument("--shards", nargs="+", required=True)
    p.add_argument("--out", required=True)

    p = add("baseline", cmd_baseline, "per-problem mean tokens and accuracy over the K samples")
    p.add_argument("--samples", required=True)
    p.add_argument("--out", required=True)

    p = add("trainset", cmd_trainset, "length-harmonizing rewards and advantages")
    p.add_argument("--samples", required=True)
    p.add_argument("--stats", required=True)
    p.add_argument("--settings", type=_settings, required=True, help="the config's `reward` section (JSON)")
    p.add_argument("--out", required=True)

    p = add("select", cmd_select, "SFT / DPO training data from the pre-samples")
    p.add_argument("--method", required=True, choices=["sft", "dpo"])
    p.add_argument("--samples", required=True)
    p.add_argument("-m", type=int, default=2, help="shortest correct samples per problem")
    p.add_argument("--out", required=True)

    p = add("ref-logprobs", cmd_ref_logprobs, "reference mean-token log-probs of the training samples")
    p.add_argument("--model", required=True)
    p.add_argument("--trainset", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument("--settings", type=_settings, required=True)
    p.add_argument("--out", required=True)

    p = add("train", cmd_train, "fine-tune the reference model")
    p.add_argument("--method", required=True, choices=["o1_pruner", "sft", "dpo"])
    p.add_argument("--model", required=True)
    p.add_argument("--trainset", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument("--settings", type=_settings, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)

    p = add("evaluate", cmd_evaluate, "greedy decoding on a test set: accuracy, tokens, time")
    p.add_argument("--model", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument("--settings", type=_settings, required=True)
    p.add_argument("--run", required=True, help="name of the evaluated run (baseline, marker_ban, o1_pruner-seed0)")
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)

    p = add("report", cmd_report, "tables and figures from evaluation metrics")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--samples", nargs="+", required=True)
    p.add_argument("--reference-run", default="baseline")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--figures-dir", required=True)
    p.add_argument("--provenance", type=_settings, default={})
    p.add_argument("--presamples", default=None, help="pre-samples of the training set (profile, length intervals)")
    p.add_argument("--markers", nargs="*", default=[], help="overthinking markers counted per run")

    p = add("aes", cmd_aes, "score rows (model, method, dataset, accuracy, length) with AES vs their baseline")
    p.add_argument("table", help="CSV with columns model, method, dataset, accuracy, length")
    p.add_argument("--reference-method", default="baseline")
    p.add_argument("--out", required=True, help="the CSV with `aes` and `aes_formula` added")

    p = add("readme", cmd_readme, "splice the generated results summary into README.md")
    p.add_argument("--summary", required=True)
    p.add_argument("--readme", default="README.md")
    p.add_argument("--block", default=None, help="results block <!-- results:BLOCK:begin -->; default: the main one")

    for p in sub.choices.values():
        if any(a.dest == "model" for a in p._actions) or p.prog.endswith("toy-reference"):
            p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        args.func(args)
    except (InputError, FileNotFoundError) as e:
        print(f"o1pruner {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
