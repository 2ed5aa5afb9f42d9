rule toy_data:
    output:
        train="results/data/toy/train.jsonl",
        test="results/data/toy/test.jsonl",
    log:
        "logs/data/toy.log",
    params:
        settings=settings("toy"),
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner toy-data --settings {params.settings} "
        "--train {output.train} --test {output.test} > {log} 2>&1"


rule prepare_dataset:
    input:
        source_file,
    output:
        "results/data/{dataset}/{split}.jsonl",
    log:
        "logs/data/{dataset}_{split}.log",
    params:
        args=prepare_args,
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner prepare {wildcards.dataset} {params.args} --out {output} > {log} 2>&1"


ruleorder: toy_data > prepare_dataset


if config["model"]["toy_reference"]:

    rule toy_reference:
        input:
            test="results/data/toy/test.jsonl",
        output:
            directory(config["model"]["path"]),
        log:
            f"logs/models/{MODEL}/toy_reference.log",
        benchmark:
            f"benchmarks/models/{MODEL}/toy_reference.tsv"
        params:
            settings=lambda wc: shlex.quote(
                json.dumps(
                    {"toy": config["toy"], "prompt": config["prompt"]}, sort_keys=True
                )
            ),
        threads: THREADS
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/o1pruner.yaml"
        shell:
            "o1pruner toy-reference --settings {params.settings} --test {input.test} "
            "--out {output} --threads {threads} > {log} 2>&1"
