"""What a config asks for, checked before any job, one short message naming the key each: the
training layout (processes, batches, shards), registered method names, the on-policy methods'
groups, rounds, sampled evaluation, the thinking marker, token caps, the selection grid and a
profile's placeholders. `check_planned_config` runs them all after the schema check; the checks
of the run's inputs (model, data files) are in `inputs.py`. Imported by `rules/common.smk`."""

from __future__ import annotations

import importlib.util
import re

from .inputs import check_data_sources, tokenizer_file
from .load import ConfigError


def training_processes(training: dict) -> int:
    """Processes of one training job: its GPUs, or `cpu_processes` on a machine without."""
    return training["gpus"] if training["gpus"] > 0 else training["cpu_processes"]


def known_training_problems(config: dict) -> int | None:
    """The number of training problems, where the config says it (toy n_train, a dataset's n)."""
    train = config["datasets"]["train"]
    if train == "toy":
        return config["toy"]["n_train"]
    return config["datasets"]["sources"].get(train, {}).get("train", {}).get("n")


def check_training_layout(config: dict) -> None:
    """What the schema cannot see about how training is spread over processes: DeepSpeed ZeRO
    without DeepSpeed or with options it does not support here, more processes than (known)
    training problems, a global batch that the processes cannot split evenly."""
    from ..distributed import BatchLayoutError, gradient_accumulation

    t = config["training"]
    processes = training_processes(t)
    if processes > 1 and t["distributed"] != "ddp":
        if importlib.util.find_spec("deepspeed") is None:
            raise ConfigError(
                f"config key training.distributed: {t['distributed']} needs DeepSpeed, which is not installed in "
                "this environment (it is in requirements.txt); or set training.distributed: ddp"
            )
        for method, overrides in {None: {}, **t["method_overrides"]}.items():
            s = {**t, **overrides}
            where = f"training.method_overrides.{method}" if method else "training"
            if s["pure_bf16"]:
                raise ConfigError(
                    f"config key {where}.pure_bf16: DeepSpeed ZeRO ({t['distributed']}) keeps its own fp32 master "
                    "weights; pure bf16 training runs with training.distributed: ddp"
                )
            if s["finetuning"] == "lora":
                raise ConfigError(
                    f"config key {where}.finetuning: lora is not supported with training.distributed: "
                    f"{t['distributed']} (merging the adapters needs whole weights); use ddp"
                )
    problems = known_training_problems(config)
    if problems and processes > problems:
        raise ConfigError(
            f"{processes} training processes for {problems} training problems: lower training.cpu_processes / "
            "training.gpus"
        )
    try:
        gradient_accumulation(t["global_batch_size"], t["per_device_batch_size"], processes)
    except BatchLayoutError:
        raise ConfigError(
            f"config key training.global_batch_size: {t['global_batch_size']} is not a multiple of "
            f"per_device_batch_size {t['per_device_batch_size']} x {processes} training process(es)"
        ) from None


def check_sampling_layout(config: dict) -> None:
    """Pre-sampling shards are whole generation batches: no more shards than batches, where the
    number of training problems is known when the workflow is planned."""
    problems = known_training_problems(config)
    s = config["sampling"]
    per_batch = max(1, s["batch_size"] // s["k"])
    if problems and s["shards"] > -(-problems // per_batch):
        raise ConfigError(
            f"config key sampling.shards: {s['shards']} is more than the {-(-problems // per_batch)} generation "
            f"batch(es) of the {problems} training problems ({per_batch} per batch = sampling.batch_size // "
            "sampling.k)"
        )


def check_generation_gpus(config: dict) -> None:
    """A job that generates with vLLM on GPUs holds the engine's tensor-parallel group: it needs
    at least that many GPUs (the job's `gpu` resource; 0 runs on CPU)."""
    gpus, tp = config["sampling"]["gpus_per_shard"], config["vllm"]["tensor_parallel_size"]
    engines = [f"{k}.backend" for k in ("sampling", "evaluation") if config[k]["backend"] == "vllm"]
    if engines and 0 < gpus < tp:
        raise ConfigError(
            f"config key sampling.gpus_per_shard: {gpus} GPU(s) per pre-sampling and evaluation job, fewer than "
            f"vllm.tensor_parallel_size {tp} ({engines[0]} is vllm)"
        )


def check_registered_names(config: dict) -> None:
    """Methods, method overrides and controls must be registered (src/o1pruner/runs.py)."""
    from .. import runs

    for name in config["training"]["methods"]:
        iterated = runs._ROUND.match(name)
        if name not in runs.METHODS and iterated and iterated.group("base") in runs.METHODS:
            base, number = iterated.group("base"), int(iterated.group("round"))
            raise ConfigError(
                f"config key training.methods: {name!r} is round {number} of {base}, which needs round "
                f"{number - 1} first: rounds are not listed by name, `rounds: {{{base}: {{n: {number}}}}}` makes "
                f"rounds 2..{number} (each from the one before)"
            )
        if name not in runs.METHODS:
            raise ConfigError(
                f"config key training.methods: {name!r} is not a registered method (registered: "
                f"{', '.join(runs.METHODS)}; ablation variants come from the `ablations` section)"
            )
    for name in config["training"]["method_overrides"]:
        try:
            runs.method(name)
        except runs.UnknownName:
            raise ConfigError(
                f"config key training.method_overrides.{name}: not a registered method (registered: "
                f"{', '.join(runs.METHODS)})"
            ) from None
    for name in config["evaluation"]["controls"]:
        if name not in runs.CONTROLS:
            raise ConfigError(
                f"config key evaluation.controls: {name!r} is not a registered control (registered: "
                f"{', '.join(runs.CONTROLS)})"
            )


def check_planned_config(config: dict, schema: dict) -> None:
    """Every check of a config whose schema defaults are filled in, in one order (the workflow runs
    this before planning any job; the toy reference and model path are checked after it)."""
    check_registered_names(config)
    check_data_sources(config)
    check_rounds(config)
    check_training_layout(config)
    check_sampling_layout(config)
    check_generation_gpus(config)
    check_sampled_evaluation(config)
    check_evaluation_caps(config)
    check_thinking(config)
    check_selection(config)
    check_online_methods(config, schema)


def check_online_methods(config: dict, schema: dict) -> None:
    """Every on-policy (GRPO) method trained: its `grpo` overrides are known keys, its groups have
    at least 2 rollouts (the group-aware rewards read the whole group; GRPO's advantage is
    relative to it), and an optimiser step holds whole groups."""
    from .. import job_settings, runs

    grpo_keys = set(schema["properties"]["training"]["properties"]["grpo"]["properties"])
    for name, overrides in config["training"]["method_overrides"].items():
        unknown = sorted(set((overrides or {}).get("grpo") or {}) - grpo_keys)
        if unknown:
            raise ConfigError(f"config key training.method_overrides.{name}.grpo.{unknown[0]} is not a grpo key")
    for m in runs.trained_methods(config) + runs.grid_methods(config):
        if m.trainer != "grpo":
            continue
        t = job_settings.method_training(config, m.name)
        g = t["grpo"]["generations"]
        if g < 2 and m.objective in runs.GROUP_OBJECTIVES:
            raise ConfigError(
                f"config key training.grpo.generations: method {m.name}'s reward ({m.label}) compares the "
                f"responses to one prompt, so it needs a group of at least 2 (got {g})"
            )
        if g < 2:
            raise ConfigError(
                f"config key training.grpo.generations: method {m.name} is trained with GRPO, whose advantage is "
                f"relative to the group of responses to one prompt: at least 2 (got {g})"
            )
        if t["global_batch_size"] % g:
            raise ConfigError(
                f"config key training.global_batch_size: {t['global_batch_size']} rollouts per step is not a "
                f"multiple of training.grpo.generations {g} (method {m.name}: whole groups per step)"
            )


def check_rounds(config: dict) -> None:
    """Each `rounds` entry iterates a method that is trained (its round 1), can be iterated, and
    says what its rounds need: O1-Pruner-style, the statistics; ThinkPrune, a cap per round;
    other GRPO methods, a count."""
    from .. import runs

    for name, spec in config["rounds"].items():
        where = f"config key rounds.{name}"
        if name not in runs.METHODS:
            raise ConfigError(f"{where}: not a registered method (registered: {', '.join(runs.METHODS)})")
        if name not in config["training"]["methods"]:
            raise ConfigError(
                f"{where}: round 2 starts from round 1's checkpoint, but {name} is not in training.methods"
            )
        if name in config["selection"]["methods"]:
            # Round 2 would have to start from the picked grid point and train with its values;
            # until the rounds follow the pick, the two are run one after the other.
            raise ConfigError(
                f"{where}: {name} is also in selection.methods, and rounds do not yet start from the picked grid "
                f"point: pick first, set the pick in training.method_overrides.{name}, then run the rounds "
                "without selecting it"
            )
        m = runs.METHODS[name]
        if m.data != "length_harmonizing" and m.trainer != "grpo":
            raise ConfigError(
                f"{where}: rounds exist for methods that learn from their own samples (O1-Pruner-style, GRPO); "
                f"{name} trains on {m.data} data"
            )
        caps = spec.get("hard_cap_tokens")
        if caps is not None and m.objective != "hard_cap":
            raise ConfigError(f"{where}.hard_cap_tokens: only ThinkPrune-style methods (objective hard_cap) have a cap")
        if m.objective == "hard_cap" and caps is None:
            raise ConfigError(f"{where}: give hard_cap_tokens, one cap per round (e.g. [4096, 3072, 2048])")
        if caps is None and "n" not in spec:
            raise ConfigError(f"{where}: give n, the number of rounds (the first included)")
        if caps is not None and "n" in spec and spec["n"] != len(caps):
            raise ConfigError(f"{where}: n is {spec['n']} but hard_cap_tokens has {len(caps)} caps (one per round)")
        if m.data == "length_harmonizing" and "statistics" not in spec:
            raise ConfigError(
                f"{where}: give statistics: previous (each round's reward from the previous round's own samples) "
                "or reference (from the original reference's)"
            )


def sampled_per_dataset(config: dict) -> dict[str, int]:
    """n sampled responses per problem for each test set (0: no sampled evaluation)."""
    n = config["evaluation"]["sampled"]["samples_per_problem"]
    return {d: n.get(d, n.get("default", 0)) for d in config["datasets"]["test"]}


def check_per_set_keys(values: dict, key: str, config: dict) -> None:
    """A per-test-set setting (`{default: .., <set>: ..}`) names only test sets and `default`."""
    tests = config["datasets"]["test"]
    unknown = sorted(set(values) - {"default", *tests})
    if unknown:
        raise ConfigError(
            f"config key {key}.{unknown[0]}: not a test set of datasets.test ({', '.join(tests)}) nor `default`"
        )


def check_sampled_evaluation(config: dict) -> None:
    """Every k of pass@k needs at least k samples per problem; per-set counts name test sets."""
    sampled = config["evaluation"]["sampled"]
    check_per_set_keys(sampled["samples_per_problem"], "evaluation.sampled.samples_per_problem", config)
    for dataset, n in sampled_per_dataset(config).items():
        too_large = [k for k in sampled["pass_k"] if n and k > n]
        if too_large:
            raise ConfigError(
                f"config key evaluation.sampled.pass_k: pass@{too_large[0]} needs at least {too_large[0]} samples per "
                f"problem, but {dataset} has {n} (evaluation.sampled.samples_per_problem)"
            )


def check_thinking(config: dict) -> None:
    """The marker that closes the thinking block must be one token of the model's tokenizer.

    The toy's reference is built by the workflow: its thinking variant has exactly the toy's
    marker. A real model's tokenizer is read where it is on this machine; a hub id not yet
    downloaded is checked by the first job that loads it (`sampling.thinking.thinking_end_id`)."""
    marker = config["prompt"]["thinking_end"]
    if config["model"]["toy_reference"]:
        from ..toy.tasks import THINK_CLOSE

        thinking = config["toy"]["thinking"]
        if thinking and marker != THINK_CLOSE:
            raise ConfigError(
                f"config key prompt.thinking_end: the toy's thinking block closes with {THINK_CLOSE!r}, "
                f"not {marker!r}: set prompt.thinking_end: {THINK_CLOSE!r}"
            )
        if marker is not None and not thinking:
            raise ConfigError(
                f"config key prompt.thinking_end: {marker!r} is not a token of the toy reference, which has no "
                "thinking block (toy.thinking: false): set toy.thinking: true or prompt.thinking_end: null"
            )
        return
    if marker is None:
        return
    rehearsal = config.get("rehearsal", {})
    path = tokenizer_file(rehearsal["tokenizer"] if rehearsal.get("enabled") else config["model"]["path"])
    if path is None:
        return
    from transformers import PreTrainedTokenizerFast

    from ..io import InputError
    from ..sampling.thinking import thinking_end_id

    try:
        thinking_end_id(PreTrainedTokenizerFast(tokenizer_file=str(path)), marker, config["model"]["path"])
    except InputError as e:
        raise ConfigError(str(e)) from None


def check_evaluation_caps(config: dict) -> None:
    """Per-set token caps name test sets; budgets need a thinking block and fit in each set's cap."""
    e, tests = config["evaluation"], config["datasets"]["test"]
    if isinstance(e["max_new_tokens"], dict):
        check_per_set_keys(e["max_new_tokens"], "evaluation.max_new_tokens", config)
    from ..job_settings import token_cap

    budgets = e["budget_forcing"]["budgets"]
    if not budgets:
        return
    if config["prompt"]["thinking_end"] is None:
        raise ConfigError(
            "config key evaluation.budget_forcing.budgets: budget forcing closes the thinking block, so it needs "
            "the marker that closes it (prompt.thinking_end, e.g. '</think>')"
        )
    for dataset in tests:
        cap = token_cap(config, dataset)
        over = [b for b in budgets if b > cap]
        if over:
            raise ConfigError(
                f"config key evaluation.budget_forcing.budgets: a budget of {over[0]} tokens is larger than the token "
                f"cap of {dataset} ({cap}, evaluation.max_new_tokens), which already caps every response"
            )


def check_selection(config: dict) -> None:
    """Selected methods are trained methods with at least one grid point; real data names where
    the validation split comes from."""
    from .. import runs

    selection = config["selection"]
    for name in selection["methods"]:
        if name not in config["training"]["methods"]:
            raise ConfigError(
                f"config key selection.methods: {name!r} is not in training.methods "
                f"({', '.join(config['training']['methods'])})"
            )
        if not runs.grid_methods(config, name):
            raise ConfigError(
                f"config key selection.grid: no grid point for {name!r} (it takes learning_rate and epochs; "
                "lambda and samples_per_problem only apply to length-harmonizing methods)"
            )
    train = config["datasets"]["train"]
    if selection["methods"] and train != "toy" and "validation" not in config["datasets"]["sources"].get(train, {}):
        raise ConfigError(
            f"config key datasets.sources.{train}.validation is missing: selection.methods needs a validation "
            "split of the training data set, apart from every test set"
        )


def check_profile_placeholders(default_resources: dict, rule_resources: dict, argv: list[str]) -> None:
    """A profile's resource still holding a `<placeholder>` (profiles/slurm ships `<gpu-partition>`)
    would reach the cluster as a partition name; refuse it before any job, naming where it is."""
    profile = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--profile"), None)
    where = f"in {profile}/config.yaml" if profile else "in the profile"
    found = [("default-resources", name, r) for name, r in (default_resources or {}).items()]
    for rule, resources in (rule_resources or {}).items():
        found += [(f"set-resources.{rule}", name, r) for name, r in resources.items()]
    for key, name, resource in found:
        raw = getattr(resource, "raw", resource)
        if isinstance(raw, str) and re.fullmatch(r"\s*<[^<>]+>\s*", raw):
            raise ConfigError(
                f"{key}.{name} is still the placeholder {raw.strip()!r} {where}: write your cluster's value there "
                "(e.g. `sinfo -s` lists the partitions), or delete the line"
            )
