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
