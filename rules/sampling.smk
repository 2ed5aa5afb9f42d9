rule presample:
    input:
        problems="results/data/{dataset}/train.jsonl",
        model=reference_model(),
    output:
        "results/samples/{model}/{dataset}/samples.parquet",
    log:
        "logs/presample/{model}/{dataset}.log",
    benchmark:
        "benchmarks/presample/{model}/{dataset}.tsv"
    conda:
        "../envs/o1pruner.yaml"
    threads: THREADS
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        model=model_arg,
        settings=lambda wc: settings("sampling", **model_settings()),
    shell:
        "o1pruner presample --model {params.model} --problems {input.problems} "
        "--settings {params.settings} --out {output} --threads {threads} > {log} 2>&1"


rule baseline_stats:
    input:
        "results/samples/{model}/{dataset}/samples.parquet",
    output:
        "results/baseline/{model}/{dataset}/stats.parquet",
    log:
        "logs/baseline/{model}/{dataset}.log",
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner baseline --samples {input} --out {output} > {log} 2>&1"
