rule trainset:
    input:
        samples="results/samples/{model}/{dataset}/samples.parquet",
        stats="results/baseline/{model}/{dataset}/stats.parquet",
    output:
        "results/trainset/{model}/{dataset}/{variant}.parquet",
    log:
        "logs/trainset/{model}/{dataset}/{variant}.log",
    wildcard_constraints:
        variant=r"o1_pruner(_lambda[0-9p]+|_hard|_mid|_easy)?",
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=variant_reward_settings,
    shell:
        "o1pruner --log-file {log} trainset --samples {input.samples} --stats {input.stats} "
        "--settings {params.settings} --out {output}"


rule baseline_trainset:
    input:
        "results/samples/{model}/{dataset}/samples.parquet",
    output:
        "results/trainset/{model}/{dataset}/{method}.parquet",
    log:
        "logs/trainset/{model}/{dataset}/{method}.log",
    wildcard_constraints:
        method="sft|dpo",
    conda:
        "../envs/o1pruner.yaml"
    params:
        m=config["training"]["baseline_samples_per_problem"],
    shell:
        "o1pruner --log-file {log} select --method {wildcards.method} --samples {input} -m {params.m} "
        "--out {output}"


rule reference_logprobs:
    input:
        trainset="results/trainset/{model}/{dataset}/{variant}.parquet",
        problems=problems_file("train"),
        model=reference_model(),
    output:
        "results/trainset/{model}/{dataset}/{variant}.ref_logp.parquet",
    log:
        "logs/reference_logprobs/{model}/{dataset}/{variant}.log",
    benchmark:
        "benchmarks/reference_logprobs/{model}/{dataset}/{variant}.tsv"
    wildcard_constraints:
        variant=r"o1_pruner(_lambda[0-9p]+|_hard|_mid|_easy)?",
    conda:
        "../envs/o1pruner.yaml"
    threads: THREADS
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        model=model_arg,
        launcher=train_launcher,
        settings=lambda wc: settings(
            **model_settings(),
            cutoff_len=config["training"]["cutoff_len"],
            logprob_batch_size=config["training"]["logprob_batch_size"],
        ),
    shell:
        "{params.launcher} --log-file {log} ref-logprobs --model {params.model} --trainset {input.trainset} "
        "--problems {input.problems} --settings {params.settings} --out {output} "
        "--threads {threads}"


rule finetune:
    input:
        trainset=method_trainset,
        problems=data_path(TRAIN_DATASET, "train"),
        model=reference_model(),
    output:
        directory("results/checkpoints/{model}/{method}/seed{seed}"),
    log:
        "logs/finetune/{model}/{method}/seed{seed}.log",
    benchmark:
        "benchmarks/finetune/{model}/{method}/seed{seed}.tsv"
    conda:
        "../envs/o1pruner.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=600,
        gpu=config["training"]["gpus"],
    params:
        model=model_arg,
        method=base_method,
        launcher=train_launcher,
        settings=training_settings,
    shell:
        "{params.launcher} --log-file {log} train --method {params.method} --model {params.model} "
        "--trainset {input.trainset} --problems {input.problems} --settings {params.settings} "
        "--seed {wildcards.seed} --out {output} --threads {threads}"
