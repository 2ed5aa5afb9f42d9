rule toy_data:
    output:
        train=data_path("toy", "train"),
        test=data_path("toy", "test"),
    log:
        f"logs/data/toy/{MODEL}.log",
    conda:
        "../envs/o1pruner.yaml"
    params:
        settings=lambda wc: as_param(job_settings.toy_data_settings(config)),
    shell:
        "o1pruner --log-file {log} toy-data --settings {params.settings} "
        "--train {output.train} --test {output.test}"


rule prepare_dataset:
    input:
        source_file,
    output:
        "results/data/{dataset}/{split}.jsonl",
    log:
        "logs/data/{dataset}_{split}.log",
    wildcard_constraints:
        dataset=r"(?!toy\b)[A-Za-z0-9_]+",
    conda:
        "../envs/o1pruner.yaml"
    params:
        args=prepare_args,
    shell:
        "o1pruner --log-file {log} prepare {wildcards.dataset} {params.args} --out {output}"


if config["model"]["toy_reference"]:

    rule toy_reference:
        input:
            test=data_path("toy", "test"),
        output:
            directory(config["model"]["path"]),
        log:
            f"logs/models/{MODEL}/toy_reference.log",
        benchmark:
            f"results/benchmarks/models/{MODEL}/toy_reference.tsv"
        conda:
            "../envs/o1pruner.yaml"
        threads: THREADS
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            settings=as_param(job_settings.toy_reference_settings(config)),
        shell:
            "o1pruner --log-file {log} toy-reference --settings {params.settings} --test {input.test} "
            "--out {output} --threads {threads}"


if config["rehearsal"]["enabled"]:
    # The tiny model's folder is named by what it is made from (rehearsal.model_folder): shared
    # by the rehearsals that make the same model.
    REHEARSAL_MODEL = Path(config["model"]["path"]).parent.name

    rule rehearsal_reference:
        input:
            problems=data_path(TRAIN_DATASET, "train"),
        output:
            directory(config["model"]["path"]),
        log:
            f"logs/models/{REHEARSAL_MODEL}/rehearsal_reference.log",
        benchmark:
            f"results/benchmarks/models/{REHEARSAL_MODEL}/rehearsal_reference.tsv"
        conda:
            "../envs/o1pruner.yaml"
        threads: THREADS
        resources:
            mem_mb=6000,
            runtime=30,
        params:
            settings=as_param(rehearsal.model_settings(config)),
        shell:
            "o1pruner --log-file {log} rehearsal-reference --settings {params.settings} "
            "--problems {input.problems} --out {output} --threads {threads}"
