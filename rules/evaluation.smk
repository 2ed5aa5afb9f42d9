# Greedy and sampled evaluation run the same command; their settings differ.
EVALUATE_COMMAND = (
    "{params.cli} --log-file {log} evaluate --model {params.model} --problems {input.problems} "
    "--settings {params.settings} --run {wildcards.run} --out {output.samples} "
    "--metrics {output.metrics} --threads {threads}"
)


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
        settings=lambda wc: as_param(job_settings.evaluation_settings(config, wc.run)),
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
            job_settings.evaluation_settings(config, wc.run, SAMPLED[wc.dataset])
        ),
        cli=EVAL_CLI,
    shell:
        EVALUATE_COMMAND
