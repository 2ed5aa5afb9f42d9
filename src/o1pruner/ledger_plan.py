"""Which files say what each trained run cost: the compute ledger's plan, made while Snakemake
plans the run (the `report` rule passes it to `o1pruner report --ledger-plan`).

Every path is where a rule writes it (its `benchmark:` file, training set, checkpoint), each
benchmark with the GPUs its job holds (the rule's `gpu` resource: `training.gpus` for
fine-tuning, `sampling.gpus_per_shard` for pre-sampling, one for log-probs and evaluation, or
vLLM's tensor-parallel size): the ledger counts device-seconds. A method picked on the validation
split (`selection`) names its grid points instead: which one trained the run is read from the
pick when the report is made.

Standard library only: the rules import this module while Snakemake plans the run.
"""

from __future__ import annotations

from . import job_settings, runs


def _bench(path: str, gpus: int) -> dict:
    return {"path": path, "gpus": gpus}


def evaluation_gpus(config: dict) -> int:
    """GPUs of one evaluation job: vLLM's tensor-parallel size, else one device."""
    return config["vllm"]["tensor_parallel_size"] if config["evaluation"]["backend"] == "vllm" else 1


def _method_files(config: dict, model: str, dataset: str, m: runs.Method) -> dict:
    """A method's training-side benchmark files other than fine-tuning, and its training set."""
    files = {"trainset": f"results/trainset/{model}/{dataset}/{m.name}.parquet", "data_benchmarks": []}
    if runs.resampled(m):  # a round's own pre-samples and log-probs, per seed (rules/rounds.smk)
        files["trainset"] = f"results/rounds/{model}/{dataset}/{m.name}/seed{{seed}}/trainset.parquet"
        files["round_samples"] = f"results/rounds/{model}/{dataset}/{m.name}/seed{{seed}}/samples.parquet"
        files["data_benchmarks"] = [
            _bench(
                f"results/benchmarks/presample_round/{model}/{dataset}/{m.name}/seed{{seed}}.tsv",
                config["sampling"]["gpus_per_shard"],
            ),
            _bench(f"results/benchmarks/round_logprobs/{model}/{dataset}/{m.name}/seed{{seed}}.tsv", 1),
        ]
    elif m.data == "length_harmonizing":  # its draw's reference log-probs (shared by lambda variants)
        draw = runs.draw_name(m, config)
        files["data_benchmarks"] = [_bench(f"results/benchmarks/reference_logprobs/{model}/{dataset}/{draw}.tsv", 1)]
    return files


def uses_presamples(m: runs.Method) -> bool:
    """Whether the method's training data needs the reference's K pre-samples. The on-policy
    methods sample their own; only O1-Pruner online reads the reference statistics."""
    return m.trainer != "grpo" or m.objective == "o1_pruner"


def ledger_plan(config: dict, model: str) -> dict:
    dataset = config["datasets"]["train"]
    t = config["training"]
    plan_runs = []
    for name in [*dict.fromkeys(runs.run_method(r) for r in runs.trained_runs(config))]:
        m = runs.method(name)
        if m.ablation:
            continue  # ablation variants are in the ablation tables, not in the ledger
        entry = {
            "method": name,
            "trainer": m.trainer,
            "uses_presamples": uses_presamples(m),
            "epochs": job_settings.method_training(config, name)["epochs"],
            "seeds": list(t["seeds"]),
            "gpus": t["gpus"],
            **_method_files(config, model, dataset, m),
            "finetune_benchmark": f"results/benchmarks/finetune/{model}/{name}/seed{{seed}}.tsv",
            "checkpoint": f"results/checkpoints/{model}/{name}/seed{{seed}}",
            "previous_round": runs.previous_round(m) if m.round else None,
        }
        if name in runs.selected_methods(config):
            grid = runs.grid_methods(config, name)
            first = t["seeds"][0]
            entry["pick"] = f"results/selection/{model}/{name}.json"
            entry["grid"] = {
                g.name: {
                    **_method_files(config, model, dataset, g),
                    "finetune_benchmark": f"results/benchmarks/finetune/{model}/{g.name}/seed{{seed}}.tsv",
                    "checkpoint": f"results/checkpoints/{model}/{g.name}/seed{{seed}}",
                    "selection_benchmarks": [
                        _bench(f"results/benchmarks/finetune/{model}/{g.name}/seed{first}.tsv", t["gpus"]),
                        _bench(
                            f"results/benchmarks/evaluate_validation/{model}/{runs.run_name(g.name, first)}.tsv",
                            evaluation_gpus(config),
                        ),
                    ],
                }
                for g in grid
            }
        plan_runs.append(entry)
    shards = config["sampling"]["shards"]
    return {
        "presample": {
            "samples": f"results/samples/{model}/{dataset}/samples.parquet",
            # Imported pre-samples (sampling.import) were generated elsewhere: no job of this
            # workflow paid for them, so none is counted (their tokens still are).
            "benchmarks": []
            if config["sampling"].get("import")
            else [f"results/benchmarks/presample/{model}/{dataset}/{s}-of-{shards}.tsv" for s in range(shards)],
            "gpus": config["sampling"]["gpus_per_shard"],
        },
        "methods": plan_runs,
        "evaluation_gpus": evaluation_gpus(config),
        "throughput": dict(config["ledger"]),
    }
