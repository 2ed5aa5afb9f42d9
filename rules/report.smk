rule report:
    input:
        metrics=eval_files("json"),
        samples=eval_files("parquet"),
        sampled=sampled_eval_files("json"),
        budget=budget_eval_files("json"),
        selection=expand(
            "results/selection/{model}/{method}.json", model=MODEL, method=SELECTED
        ),
        presamples=f"results/samples/{MODEL}/{TRAIN_DATASET}/samples.parquet",
    output:
        **report_outputs(),
    log:
        f"logs/report/{MODEL}.log",
    conda:
        "../envs/o1pruner.yaml"
    params:
        tables=lambda wc, output: str(Path(output.summary).parent),
        figures=lambda wc, output: str(Path(output.length_distribution_png).parent),
        markers=lambda wc: " ".join(
            shlex.quote(m) for m in config["evaluation"]["overthinking_markers"]
        ),
        provenance=lambda wc: as_param(provenance()),
        reference_run=runs.REFERENCE,
        ledger=lambda wc: as_param(ledger_plan(config, MODEL)),
    shell:
        "o1pruner --log-file {log} report --metrics {input.metrics} --samples {input.samples} "
        "--sampled-metrics {input.sampled} --budget-metrics {input.budget} --selection {input.selection} --reference-run {params.reference_run} "
        "--out-dir {params.tables} --figures-dir {params.figures} --provenance {params.provenance} "
        "--presamples {input.presamples} --markers {params.markers} --ledger-plan {params.ledger}"
