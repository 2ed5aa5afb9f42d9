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
        "benchmarks/evaluate/{model}/{dataset}/{run}.tsv"
    conda:
        EVAL_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        model=run_model_path,
        settings=run_settings,
        cli=EVAL_CLI,
    shell:
        "{params.cli} --log-file {log} evaluate --model {params.model} --problems {input.problems} "
        "--settings {params.settings} --run {wildcards.run} --out {output.samples} "
        "--metrics {output.metrics} --threads {threads}"
