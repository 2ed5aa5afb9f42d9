rule report:
    input:
        metrics=eval_files("json"),
        samples=eval_files("parquet"),
        stats=f"results/baseline/{MODEL}/{TRAIN_DATASET}/stats.parquet",
    output:
        main=report(
            "results/tables/main_results.csv",
            caption="../report/main_results.rst",
            category="Tables",
        ),
        markdown="results/tables/main_results.md",
        summary="results/tables/summary.md",
        figures=directory("results/figures"),
    log:
        "logs/report/report.log",
    params:
        markers=lambda wc: " ".join(
            shlex.quote(m) for m in config["evaluation"]["overthinking_markers"]
        ),
        provenance=lambda wc: shlex.quote(json.dumps(provenance(), sort_keys=True)),
    conda:
        "../envs/o1pruner.yaml"
    shell:
        "o1pruner report --metrics {input.metrics} --samples {input.samples} "
        "--reference-run baseline --out-dir results/tables --figures-dir {output.figures} "
        "--provenance {params.provenance} --stats {input.stats} --markers {params.markers} "
        "> {log} 2>&1"
