import json
import shlex
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

# The workflow's own package, importable without installing it (light imports only).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
import o1pruner.report.outputs as report_names
from o1pruner.workflow_config import (
    ConfigError,
    check_config,
    check_training_layout,
    check_model_path,
    check_sampling_layout,
    check_toy_reference,
    coerce_cli_values,
    generation_cli,
    is_dry_run,
    load_schema,
    put_interpreter_on_path,
    toy_reference_settings,
    train_launcher_command,
)

# Rules call the `o1pruner` console script. The interpreter running Snakemake has it beside
# itself (`.venv/bin/snakemake` works without an activated venv); a conda env of a rule
# (--use-conda) still comes first on the PATH.
put_interpreter_on_path()

# One short message naming the key or path, before any job: `--config` values are converted
# to the schema's types first (Snakemake passes nested ones as strings).
SCHEMA = load_schema(Path(workflow.basedir) / "config" / "schema.yaml")
try:
    config.update(coerce_cli_values(dict(config), SCHEMA))
    check_config(config, SCHEMA)
    validate(config, schema="../config/schema.yaml")  # fills in the schema's defaults
    check_training_layout(config)
    check_sampling_layout(config)
    if config["model"]["toy_reference"]:
        check_toy_reference(config)
    else:
        warning = check_model_path(
            config["model"]["path"], dry_run=is_dry_run(sys.argv)
        )
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
except ConfigError as e:
    sys.exit(f"config error: {e}")

MODEL = config["model"]["name"]
TRAIN_DATASET = config["datasets"]["train"]
TEST_DATASETS = config["datasets"]["test"]
THREADS = config.get("resources", {}).get("threads", 2)
SHARDS = config["sampling"]["shards"]
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
# Evaluation runs that use the unchanged reference model.
REFERENCE_RUNS = ["baseline"] + config["evaluation"]["controls"]
if config["evaluation"]["sampled_reference"]:
    REFERENCE_RUNS.append("baseline_sampled")
TRAINED_RUNS = [
    f"{method}-seed{seed}"
    for method in config["training"]["methods"]
    for seed in config["training"]["seeds"]
]
# Ablations: O1-Pruner variants (another lambda, a difficulty band of the training problems),
# trained once with the first seed from the same pre-samples.
ABLATIONS = config.get("ablations", {})
DIFFICULTY_BANDS = {"hard": [0.0, 0.4], "mid": [0.3, 0.7], "easy": [0.6, 1.0]}


def lambda_tag(value):
    return format(float(value), "g").replace(".", "p")


ABLATION_METHODS = [
    f"o1_pruner_lambda{lambda_tag(v)}" for v in ABLATIONS.get("lambdas", [])
]
if ABLATIONS.get("difficulty"):
    ABLATION_METHODS += [f"o1_pruner_{band}" for band in DIFFICULTY_BANDS]
TRAINED_RUNS += [f"{m}-seed{config['training']['seeds'][0]}" for m in ABLATION_METHODS]


# Cheap bookkeeping steps run on the submitting machine, never as cluster jobs.
localrules:
    all,
    toy_data,
    prepare_dataset,
    presample,
    baseline_stats,
    trainset,
    baseline_trainset,
    report,


wildcard_constraints:
    model=r"[A-Za-z0-9._-]+",
    dataset=r"[A-Za-z0-9_]+",
    split=r"train|test",
    method=r"[a-z0-9_]+",
    seed=r"\d+",
    run=r"[a-z0-9_]+(-seed\d+)?",


# Config keys that choose *which* jobs exist, not what a job computes: they stay out of the
# job settings, so adding a method, seed or control adds jobs without rerunning the others.
NOT_JOB_SETTINGS = {
    "training": {
        "methods",
        "seeds",
        "method_overrides",
        "gpus",
        "cpu_processes",
        "distributed",
        "baseline_samples_per_problem",
        "dpo_beta",
    },
    "evaluation": {
        "controls",
        "sampled_reference",
        "sampled_temperature",
        "overthinking_markers",
    },
    "sampling": {"shards", "gpus_per_shard"},
    "toy": {
        "reference",
        "long_thought_fraction",
        "check_prob",
        "solution_style",
        "estimate_error",
        "fast_prompt_fraction",
    },
}


def settings(*sections, **extra):
    """Shell-quoted JSON of config sections: a rule's params, so that editing one of those
    sections (and nothing else) reruns that rule and what depends on it."""
    merged = {}
    for section in sections:
        skip = NOT_JOB_SETTINGS.get(section, set())
        merged.update(
            {k: v for k, v in config.get(section, {}).items() if k not in skip}
        )
    merged.update(extra)
    return shlex.quote(json.dumps(merged, sort_keys=True))


def training_settings(wildcards):
    """Shared training settings, plus what only this method uses or overrides."""
    method = base_method(wildcards)
    extra = dict(model_settings())
    if method == "dpo":
        extra["dpo_beta"] = config["training"]["dpo_beta"]
    extra.update(config["training"]["method_overrides"].get(method, {}))
    return settings("training", **extra)


def model_settings():
    m, p = config["model"], config["prompt"]
    return {
        "dtype": m["dtype"],
        "trust_remote_code": m["trust_remote_code"],
        "system_prompt": p["system"],
        "answer_box": p["answer_box"],
    }


def generation_settings(section, **extra):
    """Settings of a generating rule; the vLLM engine settings only matter with that backend."""
    if config[section].get("backend") == "vllm":
        # where the engine runs (vllm.venv) is not what it computes
        extra["vllm"] = {k: v for k, v in config["vllm"].items() if k != "venv"}
    return settings(section, **model_settings(), **extra)


def reference_model():
    """The reference model folder as an input: built by the toy rule, or given by the user."""
    path = config["model"]["path"]
    if config["model"]["toy_reference"] or Path(path).exists():
        return path
    return []  # a hub id: `o1pruner` loads (and checks) it when the first rule runs


def variant_reward_settings(wildcards):
    """The reward settings of an O1-Pruner variant: another lambda or a difficulty band."""
    extra = {}
    suffix = wildcards.variant[len("o1_pruner") :]
    if suffix.startswith("_lambda"):
        extra["lambda"] = float(suffix[len("_lambda") :].replace("p", "."))
    elif suffix:
        extra["difficulty_band"] = DIFFICULTY_BANDS[suffix[1:]]
    return settings("reward", **extra)


def base_method(wildcards):
    return "o1_pruner" if wildcards.method.startswith("o1_pruner") else wildcards.method


def method_trainset(wildcards):
    base = f"results/trainset/{wildcards.model}/{TRAIN_DATASET}"
    if wildcards.method.startswith("o1_pruner"):
        return f"{base}/{wildcards.method}.ref_logp.parquet"
    return f"{base}/{wildcards.method}.parquet"


def run_model(wildcards):
    if wildcards.run in REFERENCE_RUNS:
        return reference_model()
    method, seed = wildcards.run.rsplit("-seed", 1)
    return f"results/checkpoints/{wildcards.model}/{method}/seed{seed}"


def run_model_path(wildcards):
    m = run_model(wildcards)
    return m if m else config["model"]["path"]


def run_settings(wildcards):
    extra = {}
    if wildcards.run == "marker_ban":
        extra["banned_phrases"] = config["evaluation"]["overthinking_markers"]
    if wildcards.run == "fast_prompt":
        extra["fast_prompt"] = True
    if wildcards.run == "baseline_sampled":
        extra["do_sample"] = True
        extra["temperature"] = config["evaluation"]["sampled_temperature"]
        extra["seed"] = config["sampling"]["seed"]
    return generation_settings("evaluation", **extra)


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


REPORT_TABLES = list(report_names.TABLES)
if config.get("toy", {}).get("solution_style") == "estimate_check":
    REPORT_TABLES += report_names.STYLE_TABLES
REPORT_FIGURES = list(report_names.FIGURES)


def report_outputs():
    """Every file the report writes, named; tables and figures with their caption for
    `snakemake --report` (captions in report/<name>.rst)."""

    def shown(path, name, category):
        return report(path, caption=f"../report/{name}.rst", category=category)

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
    return [str(path) for path in report_outputs().values()]


def provenance():
    """Recorded in every results table. The commit and package versions are read when the
    report runs; only the config hash is a param (editing the config re-renders the report).
    """
    import hashlib

    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    return {
        "config_sha256": digest,
        "model": MODEL,
        "paper_name": config["model"].get("paper_name"),
        "reward_lambda": config["reward"]["lambda"],
        "reward_clip": config["reward"]["reward_clip"],
        "toy_solution_style": config.get("toy", {}).get("solution_style"),
        "workflow_dir": workflow.basedir,
    }


def model_arg(wildcards, input):
    """The reference model as a CLI argument: the input folder, or the hub id."""
    return input.model if input.model else config["model"]["path"]


def eval_files(ext):
    return expand(
        "results/eval/{model}/{dataset}/{run}.{ext}",
        model=MODEL,
        dataset=TEST_DATASETS,
        run=REFERENCE_RUNS + TRAINED_RUNS,
        ext=ext,
    )


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
    """`o1pruner`, `torchrun` or `accelerate launch`, by the job's GPUs and training.distributed."""
    return train_launcher_command(
        config["training"],
        int(resources.get("gpu", 0) or 0),
        Path(workflow.basedir) / "config" / "accelerate",
        base_method(wildcards) if "method" in wildcards.keys() else None,
    )
