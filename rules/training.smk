rule draw:
    input:
        samples="results/samples/{model}/{dataset}/samples.parquet",
        stats="results/reference_stats/{model}/{dataset}/stats.parquet",
    output:
        "results/trainset/{model}/{dataset}/drawn/{draw}.parquet",
    log:
        "logs/draw/{model}/{dataset}/{draw}.log",
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=lambda wc: as_param(DRAWS[wc.draw]),
    shell:
        "o1pruner --log-file {log} draw --samples {input.samples} --stats {input.stats} "
        "--settings {params.settings} --out {output}"


rule reference_logprobs:
    input:
        drawn="results/trainset/{model}/{dataset}/drawn/{draw}.parquet",
        problems=problems_file("train"),
        model=reference_model(),
    output:
        "results/trainset/{model}/{dataset}/drawn/{draw}.ref_logp.parquet",
    log:
        "logs/reference_logprobs/{model}/{dataset}/{draw}.log",
    benchmark:
        "results/benchmarks/reference_logprobs/{model}/{dataset}/{draw}.tsv"
    conda:
        "../envs/o1pruner.yaml"
    threads: THREADS
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=config["training"]["gpus"],  # launched as fine-tuning is: the same processes
    params:
        model=model_arg,
        launcher=train_launcher,
        settings=as_param(job_settings.logprob_settings(config)),
    shell:
        "{params.launcher} --log-file {log} ref-logprobs --model {params.model} --samples {input.drawn} "
        "--problems {input.problems} --settings {params.settings} --out {output} "
        "--threads {threads}"


rule rewards:
    input:
        drawn=method_draw,
        stats="results/reference_stats/{model}/{dataset}/stats.parquet",
    output:
        "results/trainset/{model}/{dataset}/{method}.parquet",
    log:
        "logs/trainset/{model}/{dataset}/{method}.log",
    wildcard_constraints:
        method=WILDCARDS["harmonized"],
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=lambda wc: as_param(job_settings.reward_settings(config, wc.method)),
    shell:
        "o1pruner --log-file {log} rewards --drawn {input.drawn} --stats {input.stats} "
        "--settings {params.settings} --out {output}"


rule baseline_trainset:
    input:
        "results/samples/{model}/{dataset}/samples.parquet",
    output:
        "results/trainset/{model}/{dataset}/{method}.parquet",
    log:
        "logs/trainset/{model}/{dataset}/{method}.log",
    wildcard_constraints:
        method=WILDCARDS["baseline_trainset"],
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=lambda wc: as_param(
            job_settings.baseline_trainset_settings(config, wc.method)
        ),
    shell:
        "o1pruner --log-file {log} baseline-trainset --samples {input} --settings {params.settings} --out {output}"


rule prompts:
    input:
        stats="results/reference_stats/{model}/{dataset}/stats.parquet",
        problems=problems_file("train"),
    output:
        "results/trainset/{model}/{dataset}/{method}.parquet",
    log:
        "logs/trainset/{model}/{dataset}/{method}.log",
    wildcard_constraints:
        method=WILDCARDS["prompted"],
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner --log-file {log} prompts --stats {input.stats} --problems {input.problems} --out {output}"


rule finetune:
    input:
        trainset=finetune_trainset,
        problems=data_path(TRAIN_DATASET, "train"),
        model=finetune_start,
        # a grid point trains only once its validation split is checked against the test sets
        validation=lambda wc: (
            VALIDATION if METHODS[wc.method].ablation == runs.SELECTION else []
        ),
    output:
        directory("results/checkpoints/{model}/{method}/seed{seed}"),
    log:
        "logs/finetune/{model}/{method}/seed{seed}.log",
    benchmark:
        "results/benchmarks/finetune/{model}/{method}/seed{seed}.tsv"
    conda:
        finetune_env
    threads: 1
    resources:
        mem_mb=8000,
        runtime=600,
        gpu=config["training"]["gpus"],
    params:
        model=model_arg,
        trainer=lambda wc: METHODS[wc.method].trainer,
        launcher=train_launcher,
        settings=lambda wc: as_param(job_settings.training_settings(config, wc.method)),
    shell:
        "{params.launcher} --log-file {log} train --trainer {params.trainer} --model {params.model} "
        "--trainset {input.trainset} --problems {input.problems} --settings {params.settings} "
        "--seed {wildcards.seed} --out {output} --threads {threads}"
