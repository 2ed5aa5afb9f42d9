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


def aes_formula(acc: float, length: float, acc_base: float, len_base: float, alpha=1.0, beta=3.0,
                gamma=5.0) -> float:
    d_len = (len_base - length) / len_base
    d_acc = (acc - acc_base) / acc_base
    return alpha * d_len + (beta * abs(d_acc) if d_acc >= 0 else -gamma * abs(d_acc))
