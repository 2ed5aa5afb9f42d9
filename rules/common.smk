import json
import re
import shlex
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

# The workflow's own package, importable without installing it (light imports only).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
import o1pruner.report.outputs as report_names
from o1pruner import job_settings, rehearsal, runs
from o1pruner.config import layers as config_layers
from o1pruner.ledger_plan import ledger_plan
from o1pruner.config.load import (
    ConfigError,
    check_config,
    coerce_cli_values,
    load_schema,
)
from o1pruner.config.checks import (
    check_planned_config,
    check_profile_placeholders,
    sampled_per_dataset,
)
from o1pruner.config.inputs import (
    check_imported_samples,
    check_model_path,
    check_toy_reference,
    imported_evaluations,
)
from o1pruner.launch import (
    generation_cli,
    is_dry_run,
    put_interpreter_on_path,
    rollout_tools,
    train_launcher_command,
)

# Rules call the `o1pruner` console script. The interpreter running Snakemake has it beside
# itself (`.venv/bin/snakemake` works without an activated venv); a conda env of a rule
# (--use-conda) still comes first on the PATH.
put_interpreter_on_path()

# The run's config, composed one way (src/o1pruner/config/layers.py): config/config.yaml when
# no --configfile is given, else the given files, each after the files it `extends`, then
# --config. Snakemake's own merge is replaced, so a real-model config never inherits the toy.
try:
    LAYERS = config_layers.compose(
        workflow.config_settings.configfiles,
        workflow.config_settings.config,
        Path(workflow.basedir),
    )
except config_layers.LayeringError as e:
    sys.exit(f"config error: {e}")
config.clear()
config.update(LAYERS.config)

# One short message naming the key or path, before any job: `--config` values are converted
# to the schema's types first (Snakemake passes nested ones as strings).
SCHEMA = load_schema(Path(workflow.basedir) / "config" / "schema.yaml")
try:
    config.update(coerce_cli_values(dict(config), SCHEMA))
    check_config(config, SCHEMA)
    validate(config, schema="../config/schema.yaml")  # fills in the schema's defaults
    # A CPU rehearsal (config/rehearsal.yaml): the real config with only what cannot exist here
    # changed; every change is printed and recorded in the report.
    REHEARSAL_ROWS = None
    if config["rehearsal"]["enabled"]:
        rehearsed, REHEARSAL_ROWS = rehearsal.rehearse(config)
        config.clear()
        config.update(rehearsed)
        LAYERS.sources.update({key: "rehearsal" for key, _, _ in REHEARSAL_ROWS})
        check_config(config, SCHEMA)
    check_planned_config(config, SCHEMA)
    check_profile_placeholders(
        workflow.resource_settings.default_resources,
        workflow.resource_settings.overwrite_resources,
        sys.argv,
    )
    if config["model"]["toy_reference"]:
        check_toy_reference(config)
    elif not config["rehearsal"][
        "enabled"
    ]:  # the rehearsal's model is made by the workflow
        warning = check_model_path(
            config["model"]["path"], dry_run=is_dry_run(sys.argv)
        )
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
except ConfigError as e:
    if re.fullmatch(
        r"config key \w+ is missing", str(e)
    ):  # a section no composed file has
        e = f"{e} (the config is composed of {' + '.join(LAYERS.files)}: an overlay such as config/vllm.yaml or config/rehearsal.yaml goes after a complete config)"
    sys.exit(f"config error: {e}")

# Which file set each key that differs from the schema's default: one line on every run, the
# whole table on a dry run (and from `o1pruner config`); recorded in the report's provenance.
CONFIG_SOURCES = config_layers.set_keys(LAYERS, config, SCHEMA)
if workflow.is_main_process:
    print(f"config: {' + '.join(LAYERS.files)}", end="", file=sys.stderr)
    print(
        " + --config" if workflow.config_settings.config else "",
        f"({len(CONFIG_SOURCES)} keys differ from the schema's defaults)",
        file=sys.stderr,
    )
    if is_dry_run(sys.argv):
        print(config_layers.sources_table(CONFIG_SOURCES), end="", file=sys.stderr)
    if REHEARSAL_ROWS is not None:
        print(rehearsal.rows_table(REHEARSAL_ROWS), end="", file=sys.stderr)

MODEL = config["model"]["name"]
TRAIN_DATASET = config["datasets"]["train"]
TEST_DATASETS = config["datasets"]["test"]
THREADS = config["resources"]["threads"]
SHARDS = config["sampling"]["shards"]
# n sampled responses per problem for each test set (0: greedy only).
SAMPLED = sampled_per_dataset(config)
# Generating rules use the vLLM environment when that backend is chosen: envs/vllm.yaml under
# --use-conda, else the `o1pruner` of vllm.venv (checked here, before any job).
SAMPLING_ENV = (
    f"../envs/{'vllm' if config['sampling']['backend'] == 'vllm' else 'o1pruner'}.yaml"
)
EVAL_ENV = f"../envs/{'vllm' if config['evaluation']['backend'] == 'vllm' else 'o1pruner'}.yaml"
USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
try:
    SAMPLING_CLI, EVAL_CLI = (
        generation_cli(
            config, section, USE_CONDA, Path(workflow.basedir), is_dry_run(sys.argv)
        )
        for section in ("sampling", "evaluation")
    )
except ConfigError as e:
    sys.exit(f"config error: {e}")
# Which jobs exist: the registry of methods and runs (src/o1pruner/runs.py) read with this
# config. Adding a method, seed or control adds jobs without rerunning the others.
try:
    REFERENCE_RUNS = runs.reference_runs(config)
    TRAINED_RUNS = runs.trained_runs(config)
    METHODS = {m.name: m for m in runs.planned_methods(config)}
except runs.UnknownName as e:
    sys.exit(f"config error: {e}")
# Responses other tools wrote: pre-samples (sampling.import) instead of the presample jobs, and
# runs evaluated elsewhere (evaluation.import: {run: {test set: file}}), graded here.
try:
    IMPORTED_SAMPLES = check_imported_samples(config)
    IMPORTED_EVALUATIONS = imported_evaluations(config, REFERENCE_RUNS + TRAINED_RUNS)
except ConfigError as e:
    sys.exit(f"config error: {e}")
IMPORTED_RUNS = list(IMPORTED_EVALUATIONS)
# GRPO methods with vLLM rollouts fine-tune in the vLLM environment (training.grpo.rollouts):
# its commands' folder per method ("" for the workflow's own), checked here, before any job.
try:
    ROLLOUT_TOOLS = {
        name: rollout_tools(
            config,
            job_settings.method_training(config, name),
            m.trainer,
            USE_CONDA,
            Path(workflow.basedir),
            is_dry_run(sys.argv),
        )
        for name, m in METHODS.items()
    }
except ConfigError as e:
    sys.exit(f"config error: {e}")
WILDCARDS = runs.method_wildcards(config)
# The training sets written for other trainers (export.formats): every planned method's that is
# made from the pre-samples (not a round's own, not the on-policy methods' prompts); parquet is
# O1-Pruner's own format, for the length-harmonizing sets only (rules/export.smk).
EXPORTED = {
    runs.trainset_method(m).name: m.data
    for m in METHODS.values()
    if not runs.resampled(m) and m.data != "reference_prompts"
}
# Methods whose hyperparameters are picked on the validation split (rules/selection.smk).
SELECTED = runs.selected_methods(config)
VALIDATION = f"results/selection/{MODEL}/validation.jsonl"
# The drawn samples of the length-harmonizing methods: variants that differ only in the
# reward (lambda) share one draw and its reference log-probs.
DRAWS = {
    runs.draw_name(m, config): job_settings.draw_settings(config, m.name)
    for m in METHODS.values()
    if m.data == "length_harmonizing"
}


# Cheap bookkeeping steps run on the submitting machine, never as cluster jobs.
localrules:
    all,
    toy_data,
    prepare_dataset,
    reference_stats,
    draw,
    rewards,
    baseline_trainset,
    prompts,
    report,


wildcard_constraints:
    model=r"[A-Za-z0-9._-]+",
    dataset=r"[A-Za-z0-9_]+",
    split=r"train|test|validation",
    seed=r"\d+",
    budget=r"\d+",
    method=WILDCARDS["method"],
    run=WILDCARDS["run"],
    picked=WILDCARDS["picked"],
    draw=runs.wildcard_pattern(DRAWS),


# A run's test-set evaluation (--plan: every test set and mode) and the validation evaluation
# (--problems and --settings) run one command.
EVALUATE_COMMAND = (
    "{params.cli} --log-file {log} evaluate --model {params.model} {params.decodings} "
    "--run {wildcards.run} --out {output.samples} --metrics {output.metrics} --threads {threads}"
)


def as_param(settings):
    """Shell-quoted JSON: a rule's params, so that a job reruns when what it computes from changes."""
    return shlex.quote(json.dumps(settings, sort_keys=True))


def reference_model():
    """The reference model folder as an input: built by the toy rule, or given by the user."""
    path = config["model"]["path"]
    if (
        config["model"]["toy_reference"]
        or config["rehearsal"]["enabled"]
        or Path(path).exists()
    ):
        return path
    return []  # a hub id: `o1pruner` loads (and checks) it when the first rule runs


def method_draw(wildcards):
    """The drawn samples, with reference log-probs, that a length-harmonizing method trains on."""
    draw = runs.draw_name(METHODS[wildcards.method], config)
    return f"results/trainset/{wildcards.model}/{wildcards.dataset}/drawn/{draw}.ref_logp.parquet"


def run_model(wildcards):
    """The model a run evaluates: the reference (folder or hub id) or a fine-tuned checkpoint."""
    if wildcards.run in REFERENCE_RUNS:
        return reference_model()
    method, seed = runs.split_run(wildcards.run)
    if (
        method in SELECTED
    ):  # the grid point picked on the validation split, with this seed
        pick = checkpoints.pick_hyperparameters.get(
            model=wildcards.model, picked=method
        )
        method = json.loads(Path(pick.output[0]).read_text())["picked_method"]
    return f"results/checkpoints/{wildcards.model}/{method}/seed{seed}"


# Results of different models (and toy worlds) live side by side: the toy problems, tables and
# figures are kept per model name like every other artifact.
TABLES = f"results/tables/{MODEL}"
FIGURES = f"results/figures/{MODEL}"


def data_path(dataset, split):
    """The problems of a split: the toy world's belong to its model, real data sets are shared."""
    if dataset == "toy":
        return f"results/data/toy/{MODEL}/{split}.jsonl"
    return f"results/data/{dataset}/{split}.jsonl"


def problems_file(split):
    return lambda wildcards: data_path(wildcards.dataset, split)


REPORT_TABLES = list(report_names.TABLES) + list(report_names.LEDGER_TABLES)
if config.get("toy", {}).get("solution_style") == "estimate_check":
    REPORT_TABLES += report_names.STYLE_TABLES
REPORT_FIGURES = list(report_names.FIGURES)
if any(SAMPLED.values()):
    REPORT_TABLES += report_names.SAMPLED_TABLES
    REPORT_FIGURES += list(report_names.SAMPLED_FIGURES)
if config["prompt"]["thinking_end"]:
    REPORT_TABLES += report_names.THINKING_TABLES
if SELECTED:
    REPORT_TABLES += report_names.SELECTION_TABLES
if config["evaluation"]["budget_forcing"]["budgets"]:
    REPORT_TABLES += report_names.BUDGET_TABLES
    REPORT_FIGURES += list(report_names.BUDGET_FIGURES)


def report_outputs():
    """Every file the report writes, named; tables and figures with their caption for
    `snakemake --report` (captions in report/<name>.rst)."""

    def shown(path, name, category):
        return report(path, caption=f"../captions/{name}.rst", category=category)

    outputs = {
        name: shown(f"{TABLES}/{name}.csv", name, "Tables") for name in REPORT_TABLES
    }
    outputs["main_results_md"] = f"{TABLES}/main_results.md"
    outputs["headline"] = f"{TABLES}/headline.md"
    outputs["main_results_tex"] = shown(
        f"{TABLES}/main_results.tex", "main_results_tex", "Tables"
    )
    outputs["summary"] = f"{TABLES}/summary.md"
    outputs["provenance"] = f"{TABLES}/provenance.json"
    for name in REPORT_FIGURES:
        outputs[f"{name}_png"] = shown(f"{FIGURES}/{name}.png", name, "Figures")
        outputs[f"{name}_pdf"] = f"{FIGURES}/{name}.pdf"
    return outputs


def get_final_output():
    exports = [
        f"results/export/{MODEL}/{name}/{fmt}"
        for name, data in sorted(EXPORTED.items())
        for fmt in config["export"]["formats"]
        if fmt != "parquet" or data == "length_harmonizing"
    ]
    return [str(path) for path in report_outputs().values()] + exports


def provenance():
    """Recorded in every results table. The commit and package versions are read when the
    report runs; only the config hash is a param (editing the config re-renders the report).
    """
    import hashlib

    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    return {
        "config_sha256": digest,
        "model": MODEL,
        "paper_name": config["model"]["paper_name"],
        "reward_lambda": config["reward"]["lambda"],
        "reward_clip": config["reward"]["reward_clip"],
        "toy_solution_style": config.get("toy", {}).get("solution_style"),
        "workflow_dir": workflow.basedir,
        "config_files": LAYERS.files,
        "config_set_by": {key: source for key, _, source in CONFIG_SOURCES},
        "rehearsal": REHEARSAL_ROWS,
    }


def model_arg(wildcards, input):
    """The model as a CLI argument: the input folder, or the hub id of the reference."""
    return input.model if input.model else config["model"]["path"]


def eval_files(ext):
    return expand(
        "results/eval/{model}/{dataset}/{run}.{ext}",
        model=MODEL,
        dataset=TEST_DATASETS,
        run=REFERENCE_RUNS + TRAINED_RUNS + IMPORTED_RUNS,
        ext=ext,
    )


def sampled_eval_files(ext):
    return expand(
        "results/eval/{model}/{dataset}/{run}.sampled.{ext}",
        model=MODEL,
        dataset=[d for d, n in SAMPLED.items() if n],
        run=REFERENCE_RUNS + TRAINED_RUNS,
        ext=ext,
    )


# Budget forcing (evaluation.budget_forcing): every run but the ablation variants, each budget.
BUDGETS = config["evaluation"]["budget_forcing"]["budgets"]


def budget_files(model, dataset, run, ext):
    """One (run, test set)'s budget-forced files, in the order of the budgets."""
    return [f"results/eval/{model}/{dataset}/{run}.budget{b}.{ext}" for b in BUDGETS]


# Runs evaluated under the thinking budgets too: all but the ablation variants.
BUDGETED_RUNS = REFERENCE_RUNS + [
    r for r in TRAINED_RUNS if not runs.is_ablation(runs.run_method(r))
]


def budget_eval_files(ext):
    return [
        path
        for dataset in TEST_DATASETS
        for run in BUDGETED_RUNS
        for path in budget_files(MODEL, dataset, run, ext)
    ]


# One evaluation job per run: every test set greedy, sampled where evaluation.sampled asks and
# under each thinking budget, in this order, with the model loaded (and vLLM's engine started)
# once; a job per test set and mode would start the engine up to 18 times per run.
def run_decodings(budgeted):
    return [
        (dataset, mode)
        for dataset in TEST_DATASETS
        for mode in ("greedy", "sampled", "budgets")
        if mode == "greedy"
        or (mode == "sampled" and SAMPLED[dataset])
        or (mode == "budgets" and budgeted and BUDGETS)
    ]


def decoding_files(model, dataset, run, mode, ext):
    if mode == "budgets":
        return budget_files(model, dataset, run, ext)
    suffix = ".sampled" if mode == "sampled" else ""
    return [f"results/eval/{model}/{dataset}/{run}{suffix}.{ext}"]


def run_eval_files(budgeted, ext):
    """The outputs of a run's evaluation job, in its decodings' order."""
    return [
        path
        for dataset, mode in run_decodings(budgeted)
        for path in decoding_files("{model}", dataset, "{run}", mode, ext)
    ]


def evaluation_plan(budgeted):
    """The job's `--plan` (a param: the job reruns when any of its decodings changes)."""

    def plan(wildcards):
        decodings = [
            (dataset, data_path(dataset, "test"), mode)
            for dataset, mode in run_decodings(budgeted)
        ]
        settings = job_settings.evaluation_plan(
            config, wildcards.run, decodings, SAMPLED, BUDGETS
        )
        return f"--plan {as_param(settings)}"

    return plan


def validation_decoding(run, problems):
    """`--problems` and `--settings` of a run's evaluation on the validation split."""
    settings = job_settings.evaluation_settings(config, run, TRAIN_DATASET)
    return f"--problems {problems} --settings {as_param(settings)}"


def evaluation_runtime(budgeted):
    """Minutes: half an hour per decoding (a thinking budget counts as one), times the attempt
    (a job that ran out of time is resubmitted with more)."""
    decodings = sum(
        len(BUDGETS) if mode == "budgets" else 1 for _, mode in run_decodings(budgeted)
    )
    return lambda wildcards, attempt: 30 * decodings * attempt


def dataset_source(wildcards):
    try:
        return config["datasets"]["sources"][wildcards.dataset][wildcards.split]
    except KeyError:
        raise ValueError(
            f"config key datasets.sources.{wildcards.dataset}.{wildcards.split} is missing: "
            f"say where the {wildcards.split} split of {wildcards.dataset!r} comes from"
        ) from None


def source_file(wildcards):
    """A local source file is an input (editing it reruns preparation); a hub id is not."""
    source = dataset_source(wildcards)["source"]
    return source if Path(source).exists() else []


def prepare_args(wildcards):
    s = dataset_source(wildcards)
    args = ["--source", s["source"], "--split", s["split"], "--seed", str(s["seed"])]
    if s.get("n"):
        args += ["-n", str(s["n"])]
    return " ".join(shlex.quote(a) for a in args)


def train_launcher(wildcards, resources):
    """`o1pruner`, `torchrun` or `accelerate launch`, by the job's GPUs and training.distributed,
    from the vLLM environment for a GRPO method with vLLM rollouts."""
    method = wildcards.method if "method" in wildcards.keys() else None
    training = (
        job_settings.method_training(config, method) if method else config["training"]
    )
    return train_launcher_command(
        training,
        int(resources.get("gpu", 0) or 0),
        Path(workflow.basedir) / "config" / "accelerate",
        ROLLOUT_TOOLS.get(method, ""),
    )


def finetune_env(wildcards):
    """The conda env of a fine-tuning job (--use-conda): envs/vllm.yaml where the method's
    rollouts are vLLM's, else the workflow's."""
    m = METHODS[wildcards.method]
    rollouts = job_settings.method_training(config, m.name)["grpo"]["rollouts"]
    vllm = m.trainer == "grpo" and rollouts == "vllm"
    return f"../envs/{'vllm' if vllm else 'o1pruner'}.yaml"


# Iterative rounds (rules/rounds.smk) and what fine-tuning starts from.
ROUND_DIR = "results/rounds/{model}/{dataset}/{method}/seed{seed}"


def previous_checkpoint(wildcards):
    """The checkpoint a round starts from: the previous round's, same seed."""
    previous = runs.previous_round(METHODS[wildcards.method])
    return f"results/checkpoints/{wildcards.model}/{previous}/seed{wildcards.seed}"


def round_statistics(wildcards):
    """The statistics a round's reward compares with: its own pre-samples' or the reference's."""
    spec = config["rounds"][METHODS[wildcards.method].variant_of]
    if spec["statistics"] == "reference":
        return f"results/reference_stats/{wildcards.model}/{wildcards.dataset}/stats.parquet"
    return f"{ROUND_DIR.format(**wildcards)}/stats.parquet"


def finetune_trainset(wildcards):
    """A method's training set; a resampled round's is its own, per seed (rules/rounds.smk)."""
    if runs.resampled(METHODS[wildcards.method]):
        return f"results/rounds/{wildcards.model}/{TRAIN_DATASET}/{wildcards.method}/seed{wildcards.seed}/trainset.parquet"
    trainset = runs.trainset_method(METHODS[wildcards.method]).name
    return f"results/trainset/{wildcards.model}/{TRAIN_DATASET}/{trainset}.parquet"


def finetune_start(wildcards):
    """What fine-tuning starts from: the reference, or a round's previous checkpoint."""
    if METHODS[wildcards.method].round:
        return previous_checkpoint(wildcards)
    return reference_model()
