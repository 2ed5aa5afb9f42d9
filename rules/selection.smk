# Hyperparameters picked on a validation split (selection.*; src/o1pruner/selection.py): every
# grid point trained with the first seed and evaluated on the validation split, one rule picks,
# and the selected method's test runs use the pick (run_model reads it from the checkpoint).
if SELECTED:

    localrules:
        validation_split,
        pick_hyperparameters,

    if TRAIN_DATASET == "toy":

        rule toy_validation:
            input:
                train=data_path("toy", "train"),
                test=data_path("toy", "test"),
            output:
                data_path("toy", "validation"),
            log:
                f"logs/data/toy/{MODEL}_validation.log",
            conda:
                "../envs/o1pruner.yaml"
            params:
                settings=as_param(job_settings.validation_settings(config)),
            shell:
                "o1pruner --log-file {log} toy-validation --settings {params.settings} "
                "--train {input.train} --test {input.test} --out {output}"

    rule validation_split:
        input:
            validation=data_path(TRAIN_DATASET, "validation"),
            tests=[data_path(d, "test") for d in TEST_DATASETS],
        output:
            VALIDATION,
        log:
            f"logs/selection/{MODEL}/validation_split.log",
        conda:
            "../envs/o1pruner.yaml"
        params:
            tests=" ".join(f"{d}={data_path(d, 'test')}" for d in TEST_DATASETS),
        shell:
            "o1pruner --log-file {log} validation-split --validation {input.validation} "
            "--test {params.tests} --out {output}"

    rule evaluate_validation:
        input:
            problems=VALIDATION,
            model=run_model,
        output:
            samples="results/selection/{model}/eval/{run}.parquet",
            metrics="results/selection/{model}/eval/{run}.json",
        log:
            "logs/evaluate_validation/{model}/{run}.log",
        benchmark:
            "results/benchmarks/evaluate_validation/{model}/{run}.tsv"
        conda:
            EVAL_ENV
        threads: 1
        resources:
            mem_mb=8000,
            runtime=240,
            gpu=config["sampling"]["gpus_per_shard"],
        params:
            model=model_arg,
            decodings=lambda wc, input: validation_decoding(wc.run, input.problems),
            cli=EVAL_CLI,
        shell:
            EVALUATE_COMMAND

    checkpoint pick_hyperparameters:
        input:
            reference=f"results/selection/{MODEL}/eval/{runs.REFERENCE}.json",
            candidates=lambda wc: [
                f"results/selection/{wc.model}/eval/{run}.json"
                for run in runs.grid_runs(config, wc.picked)
            ],
        output:
            "results/selection/{model}/{picked}.json",
        log:
            "logs/selection/{model}/{picked}.log",
        conda:
            "../envs/o1pruner.yaml"
        params:
            tolerance=config["selection"]["tolerance"],
        shell:
            "o1pruner --log-file {log} pick --method {wildcards.picked} --reference {input.reference} "
            "--candidates {input.candidates} --tolerance {params.tolerance} --out {output}"
