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


rule evaluate_budget:
    input:
        problems=problems_file("test"),
        model=run_model,
    output:
        samples="results/eval/{model}/{dataset}/{run}.budget{budget}.parquet",
        metrics="results/eval/{model}/{dataset}/{run}.budget{budget}.json",
    log:
        "logs/evaluate_budget/{model}/{dataset}/{run}.budget{budget}.log",
    benchmark:
        "results/benchmarks/evaluate_budget/{model}/{dataset}/{run}.budget{budget}.tsv"
    conda:
        EVAL_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        model=model_arg,
        settings=lambda wc: as_param(
            job_settings.evaluation_settings(
                config, wc.run, wc.dataset, budget=int(wc.budget)
            )
        ),
        cli=EVAL_CLI,
    shell:
        EVALUATE_COMMAND
