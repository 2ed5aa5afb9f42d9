"""Display names of methods and test sets, for figures and the LaTeX table (code names stay in
CSV and Markdown tables, where they are what a reader greps for). Method and run labels live
with their registry entries (`o1pruner.runs`)."""

from __future__ import annotations

from ..runs import label as method_label

DATASETS = {
    "toy": "Toy",
    "math": "MATH",
    "math500": "MATH-500",
    "gsm8k": "GSM8K",
    "gaokao": "GaoKao",
    "aime24": "AIME24",
    "aime25": "AIME25",
    "amc23": "AMC23",
    "olympiadbench": "OlympiadBench",
    "average": "Average",
}


def dataset_label(dataset: str) -> str:
    return DATASETS.get(dataset, dataset)


__all__ = ["method_label", "dataset_label"]
