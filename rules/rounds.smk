# Iterative rounds of O1-Pruner-style methods (`rounds`): round N (`<method>_r<N>`) pre-samples
# the training problems again from round N-1's checkpoint of the same seed, scores them against
# that round's own statistics or the original reference's (`rounds.<method>.statistics`), and
# trains from that checkpoint, with it as the loss's reference policy. The stages are the
# reference chain's; only the model and the paths differ. GRPO rounds need no rule of their own
# (rules/training.smk starts them from the previous checkpoint).


rule presample_round:
    input:
        problems=problems_file("train"),
        model=previous_checkpoint,
    output:
        f"{ROUND_DIR}/samples.parquet",
    log:
        "logs/rounds/{model}/{dataset}/{method}/seed{seed}/presample.log",
    benchmark:
        "results/benchmarks/presample_round/{model}/{dataset}/{method}/seed{seed}.tsv"
    wildcard_constraints:
        method=WILDCARDS["resampled"],
    conda:
        SAMPLING_ENV
    threads: THREADS
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=config["sampling"]["gpus_per_shard"],
    params:
        settings=as_param(job_settings.presample_settings(config)),
        cli=SAMPLING_CLI,
    shell:
        "{params.cli} --log-file {log} presample --model {input.model} --problems {input.problems} "
        "--settings {params.settings} --shard 0 --num-shards 1 --out {output} --threads {threads}"


rule round_stats:
    input:
        f"{ROUND_DIR}/samples.parquet",
    output:
        f"{ROUND_DIR}/stats.parquet",
    log:
        "logs/rounds/{model}/{dataset}/{method}/seed{seed}/stats.log",
    wildcard_constraints:
        method=WILDCARDS["resampled"],
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner --log-file {log} reference-stats --samples {input} --out {output}"


rule round_draw:
    input:
        samples=f"{ROUND_DIR}/samples.parquet",
        stats=round_statistics,
    output:
        f"{ROUND_DIR}/drawn.parquet",
    log:
        "logs/rounds/{model}/{dataset}/{method}/seed{seed}/draw.log",
    wildcard_constraints:
        method=WILDCARDS["resampled"],
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=lambda wc: as_param(job_settings.draw_settings(config, wc.method)),
    shell:
        "o1pruner --log-file {log} draw --samples {input.samples} --stats {input.stats} "
        "--settings {params.settings} --out {output}"


rule round_logprobs:
    input:
        drawn=f"{ROUND_DIR}/drawn.parquet",
        problems=problems_file("train"),
        model=previous_checkpoint,
    output:
        f"{ROUND_DIR}/drawn.ref_logp.parquet",
    log:
        "logs/rounds/{model}/{dataset}/{method}/seed{seed}/ref_logprobs.log",
    benchmark:
        "results/benchmarks/round_logprobs/{model}/{dataset}/{method}/seed{seed}.tsv"
    wildcard_constraints:
        method=WILDCARDS["resampled"],
    conda:
        "../envs/o1pruner.yaml"
    threads: THREADS
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=config["training"]["gpus"],  # launched as fine-tuning is: the same processes
    params:
        settings=as_param(job_settings.logprob_settings(config)),
        launcher=train_launcher,
    shell:
        "{params.launcher} --log-file {log} ref-logprobs --model {input.model} --samples {input.drawn} "
        "--problems {input.problems} --settings {params.settings} --out {output} --threads {threads}"


rule round_rewards:
    input:
        drawn=f"{ROUND_DIR}/drawn.ref_logp.parquet",
        stats=round_statistics,
    output:
        f"{ROUND_DIR}/trainset.parquet",
    log:
        "logs/rounds/{model}/{dataset}/{method}/seed{seed}/rewards.log",
    wildcard_constraints:
        method=WILDCARDS["resampled"],
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=lambda wc: as_param(job_settings.reward_settings(config, wc.method)),
    shell:
        "o1pruner --log-file {log} rewards --drawn {input.drawn} --stats {input.stats} "
        "--settings {params.settings} --out {output}"
