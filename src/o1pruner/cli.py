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
import time
from pathlib import Path

from .cli_tools import add_tool_commands
from .io import InputError
from .runs import REFERENCE, TRAINERS
from .sampling.imported import FORMATS as IMPORT_FORMATS


def _settings(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg}): {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a JSON object: {text[:80]!r}")
    return value


def cmd_toy_data(a) -> None:
    from .settings import ToyDataSettings
    from .toy.build import write_toy_splits

    write_toy_splits(settings=ToyDataSettings.from_json(a.settings), train_path=a.train, test_path=a.test)


def cmd_toy_validation(a) -> None:
    from .settings import ToyValidationSettings
    from .toy.build import write_toy_validation

    settings = ToyValidationSettings.from_json(a.settings)
    write_toy_validation(settings=settings, train_path=a.train, test_path=a.test, out=a.out)


def cmd_validation_split(a) -> None:
    from .selection import checked_validation_split

    tests = {}
    for item in a.test:
        name, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"--test {item!r}: expected NAME=PATH")
        tests[name] = path
    checked_validation_split(validation_path=a.validation, test_paths=tests, out=a.out)


def cmd_pick(a) -> None:
    from .selection import pick_hyperparameters

    pick_hyperparameters(
        method=a.method, reference_metrics=a.reference, candidate_metrics=a.candidates, tolerance=a.tolerance,
        out=a.out,
    )  # fmt: skip


def cmd_toy_reference(a) -> None:
    from .toy.build import build_reference

    build_reference(settings=a.settings, test_path=a.test, out_dir=a.out, threads=a.threads)


def cmd_rehearsal_reference(a) -> None:
    from .rehearsal_model import RehearsalModelSettings, build_rehearsal_model

    settings = RehearsalModelSettings.from_json(a.settings)
    accuracy = build_rehearsal_model(settings, a.problems, a.out, a.threads)
    print(f"rehearsal model -> {a.out} (greedy accuracy on its training problems {100 * accuracy:.0f}%)")


def cmd_prepare(a) -> None:
    from .datasets import prepare

    rows = prepare(a.dataset, a.source, a.split, a.out, a.n, a.seed)
    print(f"{len(rows)} problems -> {a.out}")


def _stage(name: str, settings_class: str | None = None, module: str = "stages", **arguments: str):
    """The command of `<module>.<name>` (`stages`, or `evaluation`): its keyword arguments from the
    parsed command line (keyword -> option name), and its `--settings` typed as
    `settings.<settings_class>`."""

    def command(a) -> None:
        from importlib import import_module

        from . import settings

        kwargs = {keyword: getattr(a, option) for keyword, option in arguments.items()}
        if settings_class:
            kwargs["settings"] = getattr(settings, settings_class).from_json(a.settings)
        getattr(import_module(f".{module}", __package__), name)(**kwargs)

    return command


JOB = dict(out="out", threads="threads")
cmd_presample = _stage(
    "presample", "PresampleSettings", model_path="model", problems_path="problems", shard="shard",
    num_shards="num_shards", **JOB,
)  # fmt: skip
cmd_import_samples = _stage(
    "import_samples", "PresampleSettings", model_path="model", problems_path="problems",
    responses_path="responses", fmt="format", out="out",
)  # fmt: skip
cmd_import_evaluation = _stage(
    "import_evaluation", "EvaluationSettings", module="evaluation", model_path="model", problems_path="problems",
    responses_path="responses", fmt="format", run="run", out="out", metrics_out="metrics",
)  # fmt: skip
cmd_merge_samples = _stage("merge_samples", shard_paths="shards", out="out")
cmd_reference_stats = _stage("reference_stats", samples_path="samples", out="out")
cmd_draw = _stage("draw", "DrawSettings", samples_path="samples", stats_path="stats", out="out")
cmd_rewards = _stage("rewards", "RewardSettings", drawn_path="drawn", stats_path="stats", out="out")
cmd_baseline_trainset = _stage("baseline_trainset", "BaselineTrainsetSettings", samples_path="samples", out="out")
cmd_prompts = _stage("online_prompts", stats_path="stats", problems_path="problems", out="out")
cmd_ref_logprobs = _stage(
    "reference_logprobs", "LogprobSettings", model_path="model", samples_path="samples", problems_path="problems",
    **JOB,
)  # fmt: skip
cmd_train = _stage(
    "finetune", "TrainingSettings", trainer="trainer", model_path="model", trainset_path="trainset",
    problems_path="problems", seed="seed", **JOB,
)  # fmt: skip

cmd_evaluate = _stage(
    "evaluate_command", module="evaluation", model_path="model", problems="problems", settings="settings", plan="plan",
    run="run", metrics_out="metrics", **JOB,
)  # fmt: skip


def cmd_report(a) -> None:
    from .report.build import build_report
    from .settings import ReportSettings

    build_report(
        metric_paths=a.metrics,
        sample_paths=a.samples,
        sampled_metric_paths=a.sampled_metrics,
        budget_metric_paths=a.budget_metrics,
        selection_paths=a.selection,
        reference_run=a.reference_run,
        out_dir=a.out_dir,
        figures_dir=a.figures_dir,
        run=ReportSettings.from_json(a.provenance, "--provenance"),
        presamples_path=a.presamples,
        markers=a.markers,
        ledger_plan=a.ledger_plan,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="o1pruner", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages too")
    parser.add_argument(
        "--log-file",
        default=None,
        help="write all output to this file and only stage and progress lines to the console",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_)
        p.set_defaults(func=func)
        return p

    p = add("toy-data", cmd_toy_data, "generate the toy train/test problems")
    p.add_argument("--settings", type=_settings, required=True, help="the config's `toy` section (JSON)")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)

    p = add("toy-validation", cmd_toy_validation, "generate the toy validation problems (apart from train and test)")
    p.add_argument("--settings", type=_settings, required=True, help="toy data settings and n_validation (JSON)")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--out", required=True)

    p = add("validation-split", cmd_validation_split, "check that the validation split shares no test problem")
    p.add_argument("--validation", required=True)
    p.add_argument("--test", nargs="+", required=True, help="NAME=PATH of every test set")
    p.add_argument("--out", required=True)

    p = add("pick", cmd_pick, "pick a method's hyperparameters on the validation split (selection.py's rule)")
    p.add_argument("--method", required=True)
    p.add_argument("--reference", required=True, help="validation metrics of the reference")
    p.add_argument("--candidates", nargs="+", required=True, help="validation metrics of every grid point")
    p.add_argument("--tolerance", type=float, required=True)
    p.add_argument("--out", required=True)

    p = add("toy-reference", cmd_toy_reference, "train the toy reference model from scratch")
    p.add_argument("--settings", type=_settings, required=True, help="`toy` and `prompt` sections (JSON)")
    p.add_argument("--test", required=True, help="test problems, excluded from its training data")
    p.add_argument("--out", required=True)

    p = add(
        "rehearsal-reference",
        cmd_rehearsal_reference,
        "make a rehearsal's tiny model (real tokenizer and chat template) and train it on the training split's answers",
    )
    p.add_argument("--settings", type=_settings, required=True, help="`rehearsal.model_settings` of the config (JSON)")
    p.add_argument("--problems", required=True, help="the prepared training problems (JSONL)")
    p.add_argument("--out", required=True, help="the model folder to write")

    p = add("prepare", cmd_prepare, "normalise a benchmark (local file or hub id) to the workflow's JSONL")
    p.add_argument("dataset", help="math, math500, gsm8k, gaokao, aime24, aime25, amc23 or olympiadbench")
    p.add_argument("--source", required=True, help="local JSONL/JSON/Parquet file or hub id")
    p.add_argument("--split", default="test", help="split to read from a hub id (ignored for local files)")
    p.add_argument("--out", required=True)
    p.add_argument("-n", type=int, default=None, help="keep n problems: seeded shuffle, first n (at most all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffle behind -n")

    p = add("presample", cmd_presample, "K samples per problem from the reference model")
    p.add_argument("--model", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument(
        "--settings",
        type=_settings,
        required=True,
        help="the config's `sampling` section plus model and prompt settings (JSON), as the rule passes them",
    )
    p.add_argument("--out", required=True)

    p.add_argument("--shard", type=int, default=0, help="this job's shard (0-based)")
    p.add_argument("--num-shards", type=int, default=1)

    for name, func, help_, like in [
        ("import-samples", cmd_import_samples, "pre-samples from another tool's file (sampling.import)", "presample"),
        (
            "import-eval",
            cmd_import_evaluation,
            "a run evaluated elsewhere: its responses (evaluation.import)",
            "evaluate",
        ),
    ]:
        p = add(name, func, help_)
        p.add_argument("--model", required=True, help="the model whose tokenizer counts the tokens (only it is read)")
        p.add_argument("--problems", required=True, help="the prepared problems (JSONL) the responses answer")
        p.add_argument("--responses", required=True, help="the file of responses")
        p.add_argument("--format", required=True, choices=IMPORT_FORMATS)
        p.add_argument("--settings", type=_settings, required=True, help=f"as for {like}")
        p.add_argument("--out", required=True)
    p.add_argument("--run", required=True, help="the run's name in the tables")
    p.add_argument("--metrics", required=True)

    p = add("merge-samples", cmd_merge_samples, "concatenate pre-sampling shards")
    p.add_argument("--shards", nargs="+", required=True)
    p.add_argument("--out", required=True)

    p = add("reference-stats", cmd_reference_stats, "the reference's per-problem mean tokens and accuracy")
    p.add_argument("--samples", required=True)
    p.add_argument("--out", required=True)

    p = add("draw", cmd_draw, "m pre-samples per problem for a length-harmonizing method")
    p.add_argument("--samples", required=True)
    p.add_argument("--stats", required=True, help="reference statistics (difficulty bands rank by them)")
    p.add_argument("--settings", type=_settings, required=True, help="samples_per_problem, seed, difficulty_band")
    p.add_argument("--out", required=True)

    p = add("rewards", cmd_rewards, "length-harmonizing rewards and advantages of the drawn samples")
    p.add_argument("--drawn", required=True, help="drawn samples with reference log-probs")
    p.add_argument("--stats", required=True)
    p.add_argument("--settings", type=_settings, required=True, help="lambda, reward_clip, normalize")
    p.add_argument("--out", required=True)

    p = add(
        "baseline-trainset",
        cmd_baseline_trainset,
        "a method's training data (SFT samples, preference pairs) from the pre-samples",
    )
    p.add_argument("--samples", required=True)
    p.add_argument(
        "--settings",
        type=_settings,
        required=True,
        help="data (shortest_correct, shortest_vs_longest, budget_pairs), samples_per_problem, score_margin",
    )
    p.add_argument("--out", required=True)

    p = add("prompts", cmd_prompts, "the on-policy methods' training problems with their reference statistics")
    p.add_argument("--stats", required=True)
    p.add_argument("--problems", required=True, help="the training problems (jsonl)")
    p.add_argument("--out", required=True)

    p = add("ref-logprobs", cmd_ref_logprobs, "reference mean-token log-probs of drawn samples")
    p.add_argument("--model", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument("--settings", type=_settings, required=True)
    p.add_argument("--out", required=True)

    p = add("train", cmd_train, "fine-tune the reference model")
    p.add_argument("--trainer", required=True, choices=list(TRAINERS))
    p.add_argument("--model", required=True)
    p.add_argument("--trainset", required=True)
    p.add_argument("--problems", required=True)
    p.add_argument("--settings", type=_settings, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)

    p = add("evaluate", cmd_evaluate, "decode a test set (greedy, sampled or budget-forced): accuracy, tokens, time")
    p.add_argument("--model", required=True, help="model folder or hub id (a checkpoint or the reference)")
    p.add_argument("--problems", help="the test problems (JSONL: id, problem, answer)")
    p.add_argument(
        "--settings",
        type=_settings,
        help="the config's `evaluation` section for this run plus model and prompt settings (JSON), as the rule "
        "passes them (`snakemake -p` prints them)",
    )
    p.add_argument("--plan", type=_settings, help="instead of --problems/--settings: decodings sharing one model "
                   'load: {"common": settings, "decodings": [{"problems", "settings"}, ...]}')  # fmt: skip
    p.add_argument("--run", required=True, help="name of the evaluated run (reference, marker_ban, o1_pruner-seed0)")
    p.add_argument(
        "--out", nargs="+", required=True,
        help="every response with its grade and token counts (Parquet); with budget forcing one per budget, in order",
    )  # fmt: skip
    p.add_argument(
        "--metrics", nargs="+", required=True,
        help="accuracy, tokens and timings of the run (JSON); with budget forcing one per budget, in order",
    )  # fmt: skip

    p = add("report", cmd_report, "tables and figures from evaluation metrics")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--samples", nargs="+", required=True)
    p.add_argument(
        "--sampled-metrics", nargs="*", default=[], help="metrics of the sampled evaluation (`<run>.sampled.json`)"
    )
    p.add_argument("--selection", nargs="*", default=[], help="hyperparameters picked on validation (`o1pruner pick`)")
    p.add_argument(
        "--budget-metrics", nargs="*", default=[], help="metrics of the budget-forced evaluation (<run>.budget<B>.json)"
    )
    p.add_argument("--reference-run", default=REFERENCE)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--figures-dir", required=True)
    p.add_argument(
        "--provenance",
        type=_settings,
        required=True,
        help="config hash, model, lambda, ... (JSON), as the rule passes it",
    )
    p.add_argument("--presamples", default=None, help="pre-samples of the training set (profile, length intervals)")
    p.add_argument("--markers", nargs="*", default=[], help="overthinking markers counted per run")
    p.add_argument(
        "--ledger-plan", type=_settings, default=None,
        help="the compute ledger's files per method (JSON, `ledger_plan.ledger_plan`), as the rule passes it",
    )  # fmt: skip

    add_tool_commands(add)

    for p in sub.choices.values():
        if any(a.dest == "model" for a in p._actions) or p.prog.endswith(("toy-reference", "rehearsal-reference")):
            p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")

    args = parser.parse_args(argv)
    if args.log_file:
        from .console import redirect_to_log

        redirect_to_log(args.log_file, _job_name(args.command, args.log_file))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from .console import say

    start = time.monotonic()
    if args.log_file:
        say(f"started (log: {args.log_file})")
    try:
        args.func(args)
    except (InputError, FileNotFoundError) as e:
        say(f"o1pruner {args.command}: error: {e}")
        return 2
    except KeyboardInterrupt:
        # Ctrl-C reaches every job of the terminal's process group: one line each, not a
        # traceback that reads like a crash. Outputs are written atomically, so none is left.
        say(f"o1pruner {args.command}: interrupted; its outputs were not written")
        return 130
    if args.log_file:
        say(f"done in {time.monotonic() - start:.0f} s")
    return 0


def _job_name(command: str, log_path: str) -> str:
    """`evaluate toy-qwen2/toy/reference` from logs/evaluate/toy-qwen2/toy/reference.log."""
    parts = Path(log_path).with_suffix("").parts
    return f"{command} {'/'.join(parts[2:]) if len(parts) > 2 else parts[-1]}"


if __name__ == "__main__":
    sys.exit(main())
