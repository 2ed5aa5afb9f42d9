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
        "{params.cli} --log-file {log} evaluate --model {params.model} --problems {input.problems} "
        "--settings {params.settings} --run {wildcards.run} --out {output.samples} "
        "--metrics {output.metrics} --threads {threads}"
