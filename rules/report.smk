rule report:
    input:
        metrics=eval_files("json"),
        samples=eval_files("parquet"),
        presamples=f"results/samples/{MODEL}/{TRAIN_DATASET}/samples.parquet",
    output:
        main=report(
            "results/tables/main_results.csv",
            caption="../report/main_results.rst",
            category="Tables",
        ),
        markdown="results/tables/main_results.md",
        summary="results/tables/summary.md",
        profile=report(
            "results/tables/reference_profile.csv",
            caption="../report/reference_profile.rst",
            category="Tables",
        ),
        flips=report(
            "results/tables/flips.csv",
            caption="../report/flips.rst",
            category="Tables",
        ),
        by_level=report(
            "results/tables/by_level.csv",
            caption="../report/by_level.rst",
            category="Tables",
        ),
        figures=report(
            directory("results/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
        ),
    log:
        "logs/report/report.log",
    conda:
        "../envs/o1pruner.yaml"
    params:
        markers=lambda wc: " ".join(
            shlex.quote(m) for m in config["evaluation"]["overthinking_markers"]
        ),
        provenance=lambda wc: shlex.quote(json.dumps(provenance(), sort_keys=True)),
    shell:
        "o1pruner report --metrics {input.metrics} --samples {input.samples} "
        "--reference-run baseline --out-dir results/tables --figures-dir {output.figures} "
        "--provenance {params.provenance} --presamples {input.presamples} --markers {params.markers} "
        "> {log} 2>&1"
