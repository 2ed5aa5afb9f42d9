if IMPORTED_SAMPLES:

    rule import_samples:
        input:
            problems=problems_file("train"),
            responses=IMPORTED_SAMPLES["path"],
            model=reference_model(),
        output:
            "results/samples/{model}/{dataset}/samples.parquet",
        log:
            "logs/import_samples/{model}/{dataset}.log",
        conda:
            "../envs/o1pruner.yaml"
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            model=model_arg,
            format=IMPORTED_SAMPLES["format"],
            settings=as_param(job_settings.presample_settings(config)),
        shell:
            "o1pruner --log-file {log} import-samples --model {params.model} --problems {input.problems} "
            "--responses {input.responses} --format {params.format} --settings {params.settings} --out {output}"

else:

    # Merging shards is bookkeeping: on the submitting machine, never a cluster job.
    localrules:
        presample,

    rule presample_shard:
        input:
            problems=problems_file("train"),
            model=reference_model(),
        output:
            f"results/samples/{{model}}/{{dataset}}/shards/{{shard}}-of-{SHARDS}.parquet",
        log:
            f"logs/presample/{{model}}/{{dataset}}/{{shard}}-of-{SHARDS}.log",
        benchmark:
            f"results/benchmarks/presample/{{model}}/{{dataset}}/{{shard}}-of-{SHARDS}.tsv"
        wildcard_constraints:
            shard=r"\d+",
        conda:
            SAMPLING_ENV
        threads: THREADS
        resources:
            mem_mb=8000,
            runtime=240,
            gpu=config["sampling"]["gpus_per_shard"],
        params:
            model=model_arg,
            settings=as_param(job_settings.presample_settings(config)),
            num_shards=SHARDS,
            cli=SAMPLING_CLI,
        shell:
            "{params.cli} --log-file {log} presample --model {params.model} --problems {input.problems} "
            "--settings {params.settings} --shard {wildcards.shard} --num-shards {params.num_shards} "
            "--out {output} --threads {threads}"

    rule presample:
        input:
            expand(
                "results/samples/{{model}}/{{dataset}}/shards/{shard}-of-{n}.parquet",
                shard=range(SHARDS),
                n=SHARDS,
            ),
        output:
            "results/samples/{model}/{dataset}/samples.parquet",
        log:
            "logs/presample/{model}/{dataset}/merge.log",
        conda:
            "../envs/o1pruner.yaml"
        shell:
            "o1pruner --log-file {log} merge-samples --shards {input} --out {output}"


rule reference_stats:
    input:
        "results/samples/{model}/{dataset}/samples.parquet",
    output:
        "results/reference_stats/{model}/{dataset}/stats.parquet",
    log:
        "logs/reference_stats/{model}/{dataset}.log",
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner --log-file {log} reference-stats --samples {input} --out {output}"
