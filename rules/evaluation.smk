rule evaluate:
    input:
        problems=problems_file("test"),
        model=run_model,
    output:
        samples="results/eval/{model}/{dataset}/{run}.parquet",
        metrics="results/eval/{model}/{dataset}/{run}.json",
    log:
        "logs/evaluate/{model}/{dataset}/{run}.log",
    benchmark:
        "results/benchmarks/evaluate/{model}/{dataset}/{run}.tsv"
    conda:
        EVAL_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        model=model_arg,
        settings=lambda wc: as_param(
            job_settings.evaluation_settings(config, wc.run, wc.dataset)
        ),
        cli=EVAL_CLI,
    shell:
        EVALUATE_COMMAND


rule evaluate_sampled:
    input:
        problems=problems_file("test"),
        model=run_model,
    output:
        samples="results/eval/{model}/{dataset}/{run}.sampled.parquet",
        metrics="results/eval/{model}/{dataset}/{run}.sampled.json",
    log:
        "logs/evaluate_sampled/{model}/{dataset}/{run}.log",
    benchmark:
        "results/benchmarks/evaluate_sampled/{model}/{dataset}/{run}.tsv"
    conda:
        EVAL_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=480,
    params:
        model=model_arg,
        settings=lambda wc: as_param(
            job_settings.evaluation_settings(
                config, wc.run, wc.dataset, samples_per_problem=SAMPLED[wc.dataset]
            )
        ),
        cli=EVAL_CLI,
    shell:
        EVALUATE_COMMAND


# All budgets of a (run, test set) in one job: the model is loaded once for every budget.
if BUDGETS:

    rule evaluate_budgets:
        input:
            problems=problems_file("test"),
            model=run_model,
        output:
            samples=budget_files("{model}", "{dataset}", "{run}", "parquet"),
            metrics=budget_files("{model}", "{dataset}", "{run}", "json"),
        log:
            "logs/evaluate_budgets/{model}/{dataset}/{run}.log",
        benchmark:
            "results/benchmarks/evaluate_budgets/{model}/{dataset}/{run}.tsv"
        conda:
            EVAL_ENV
        threads: 1
        resources:
            mem_mb=8000,
            runtime=240 * len(BUDGETS),
        params:
            model=model_arg,
            settings=lambda wc: as_param(
                job_settings.evaluation_settings(
                    config, wc.run, wc.dataset, budgets=BUDGETS
                )
            ),
            cli=EVAL_CLI,
        shell:
            EVALUATE_COMMAND


if IMPORTED_RUNS:

    # A run evaluated elsewhere: its responses to each test set graded and counted here.
    ruleorder: import_evaluation > evaluate

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
