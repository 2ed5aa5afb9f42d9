# O1-Pruner (Length-Harmonizing Fine-Tuning, arXiv 2501.12570) as a reproducible workflow.
# Reads like a table of contents: each stage is one rules/*.smk file.
from snakemake.utils import min_version

min_version("9.0")


# The config: config/config.yaml (the embedded toy world) when no --configfile is given; else
# the given files, each after the ones it `extends` (rules/common.smk composes it).
report: "captions/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/sampling.smk"
include: "rules/training.smk"
include: "rules/rounds.smk"
include: "rules/selection.smk"
include: "rules/evaluation.smk"
include: "rules/report.smk"
include: "rules/export.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
