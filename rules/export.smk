# Training sets written for other trainers (config export.formats): TRL's conversational
# datasets, LLaMA-Factory's sharegpt files, O1-Pruner's own parquet (src/o1pruner/export.py).


rule export_trainset:
    input:
        trainset=f"results/trainset/{{model}}/{TRAIN_DATASET}/{{name}}.parquet",
        problems=data_path(TRAIN_DATASET, "train"),
    output:
        directory("results/export/{model}/{name}/{format}"),
    log:
        "logs/export/{model}/{name}/{format}.log",
    wildcard_constraints:
        name=runs.wildcard_pattern(EXPORTED),
        format="trl|llamafactory|parquet",
    localrule: True
    conda:
        "../envs/o1pruner.yaml"
    params:
        system=lambda wc: shlex.quote(config["prompt"]["system"] or ""),
    shell:
        "o1pruner --log-file {log} export --trainset {input.trainset} --problems {input.problems} "
        "--format {wildcards.format} --name {wildcards.name} --system-prompt {params.system} --out {output}"
