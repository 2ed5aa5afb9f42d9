"""Accuracy-Efficiency Score (AES) of the O1-Pruner paper.

    dL = (L_base - L) / L_base,   dA = (A - A_base) / A_base
    AES = alpha * dL + beta * |dA|    if dA >= 0
    AES = alpha * dL - gamma * |dA|   if dA <  0        (alpha=1, beta=3, gamma=5)

The published Table 2 never applies the dA < 0 branch: every printed value equals
dL + 3|dA|. `aes` reproduces the published numbers; `aes_formula` is the paper's definition.
"""

from __future__ import annotations


def aes_published(acc: float, length: float, acc_base: float, len_base: float, alpha=1.0, beta=3.0) -> float:
    d_len = (len_base - length) / len_base
    d_acc = (acc - acc_base) / acc_base
    return alpha * d_len + beta * abs(d_acc)


def aes_formula(acc: float, length: float, acc_base: float, len_base: float, alpha=1.0, beta=3.0, gamma=5.0) -> float:
    d_len = (len_base - length) / len_base
    d_acc = (acc - acc_base) / acc_base
    return alpha * d_len + (beta * abs(d_acc) if d_acc >= 0 else -gamma * abs(d_acc))


def score_table(df, reference_method: str = "reference", length_column: str = "length"):
    """Add `aes` (published form) and `aes_formula` to rows of model, method, dataset, accuracy,
    length, each scored against the reference row of the same model and dataset."""
    import pandas as pd

    required = {"model", "method", "dataset", "accuracy", length_column}
    missing = required - set(df.columns)
    if missing:
        raise ValueError(f"missing column(s) {sorted(missing)}")
    base = df[df["method"] == reference_method].set_index(["model", "dataset"])
    if base.index.duplicated().any():
        raise ValueError(f"more than one {reference_method!r} row for a model and dataset")
    out = df.copy()
    published, formula = [], []
    for r in out.itertuples(index=False):
        key = (r.model, r.dataset)
        if key not in base.index:
            raise ValueError(f"no {reference_method!r} row for model {r.model!r}, dataset {r.dataset!r}")
        b = base.loc[key]
        length = getattr(r, length_column)
        published.append(aes_published(r.accuracy, length, b["accuracy"], b[length_column]))
        formula.append(aes_formula(r.accuracy, length, b["accuracy"], b[length_column]))
    out["aes"] = pd.Series(published, index=out.index).round(4)
    out["aes_formula"] = pd.Series(formula, index=out.index).round(4)
    return out
