"""Display names of methods and test sets, for figures and the LaTeX table (code names stay in
CSV and Markdown tables, where they are what a reader greps for)."""

from __future__ import annotations

import re

METHODS = {
    "baseline": "Reference",
    "baseline_sampled": "Reference (sampled)",
    "marker_ban": "Marker ban (no training)",
    "fast_prompt": "Fast-solving prompt",
    "o1_pruner": "O1-Pruner",
    "sft": "SFT",
    "dpo": "DPO",
}
BANDS = {"hard": "hardest 40%", "mid": "middle 40%", "easy": "easiest 40%"}
DATASETS = {
    "toy": "Toy",
    "math": "MATH",
    "math500": "MATH-500",
    "gsm8k": "GSM8K",
    "gaokao": "GaoKao",
    "aime24": "AIME24",
    "amc23": "AMC23",
    "average": "Average",
}


def method_label(method: str) -> str:
    if method in METHODS:
        return METHODS[method]
    m = re.fullmatch(r"o1_pruner_lambda([0-9p]+)", method)
    if m:
        return f"O1-Pruner (λ={m.group(1).replace('p', '.')})"
    m = re.fullmatch(r"o1_pruner_(hard|mid|easy)", method)
    if m:
        return f"O1-Pruner ({BANDS[m.group(1)]})"
    return method


def dataset_label(dataset: str) -> str:
    return DATASETS.get(dataset, dataset)
