# A run's evaluation on every test set, greedy, sampled and under the thinking budgets, in one
# job (common.smk: run_decodings); with budgets, the ablation variants have a rule of their own.
UNBUDGETED_RUNS = [r for r in TRAINED_RUNS if r not in BUDGETED_RUNS] if BUDGETS else []
EVALUATED_RUNS = [r for r in REFERENCE_RUNS + TRAINED_RUNS if r not in UNBUDGETED_RUNS]


rule evaluate:
    input:
        problems=[data_path(d, "test") for d in TEST_DATASETS],
        model=run_model,
    output:
        samples=run_eval_files(True, "parquet"),
        metrics=run_eval_files(True, "json"),
    log:
        "logs/evaluate/{model}/{run}.log",
    benchmark:
        "results/benchmarks/evaluate/{model}/{run}.tsv"
    wildcard_constraints:
        run="|".join(re.escape(r) for r in EVALUATED_RUNS),
    conda:
        EVAL_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=evaluation_runtime(True),
        gpu=config["sampling"]["gpus_per_shard"],
    params:
        model=model_arg,
        decodings=evaluation_plan(True),
        cli=EVAL_CLI,
    shell:
        EVALUATE_COMMAND


if UNBUDGETED_RUNS:

    # The ablation variants: no budget forcing (profiles/slurm gives both rules a GPU).
    use rule evaluate as evaluate_ablation with:
        output:
            samples=run_eval_files(False, "parquet"),
            metrics=run_eval_files(False, "json"),
        log:
            "logs/evaluate_ablation/{model}/{run}.log",
        benchmark:
            "results/benchmarks/evaluate_ablation/{model}/{run}.tsv"
        wildcard_constraints:
            run="|".join(re.escape(r) for r in UNBUDGETED_RUNS),
        resources:
            mem_mb=8000,
            runtime=evaluation_runtime(False),
            gpu=config["sampling"]["gpus_per_shard"],
        params:
            model=model_arg,
            decodings=evaluation_plan(False),
            cli=EVAL_CLI,


if IMPORTED_RUNS:

    # A run evaluated elsewhere: its responses to each test set graded and counted here.
    rule import_evaluation:
        input:
            problems=problems_file("test"),
            responses=lambda wc: IMPORTED_EVALUATIONS[wc.run][wc.dataset]["path"],
            model=reference_model(),
        output:
            samples="results/eval/{model}/{dataset}/{run}.parquet",
            metrics="results/eval/{model}/{dataset}/{run}.json",
        log:
            "logs/import_evaluation/{model}/{dataset}/{run}.log",
        wildcard_constraints:
            run="|".join(re.escape(r) for r in IMPORTED_RUNS),
        conda:
            "../envs/o1pruner.yaml"
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            model=model_arg,
            format=lambda wc: IMPORTED_EVALUATIONS[wc.run][wc.dataset]["format"],
            settings=lambda wc: as_param(
                job_settings.imported_evaluation_settings(config, wc.dataset)
            ),
        shell:
            "o1pruner --log-file {log} import-eval --model {params.model} --problems {input.problems} "
            "--responses {input.responses} --format {params.format} --settings {params.settings} "
            "--run {wildcards.run} --out {output.samples} --metrics {output.metrics}"
