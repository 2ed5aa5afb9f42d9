"""Metrics of n sampled responses per problem: mean accuracy (avg@n), the unbiased pass@k, and
95% intervals.

Intervals are percentile bootstraps over *problems*: a benchmark's problems are the sample
drawn from the population of problems, and the n responses to one problem are correlated
(a hard problem is failed by most of them), so a binomial interval over all n x P responses
would treat them as independent and come out too narrow. Resampling whole problems keeps each
problem's responses together; with n = 1 it is the usual bootstrap of greedy accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021), eq. 1: the probability that at least one of k responses drawn without
    replacement from the n, of which c are correct, is correct: 1 - C(n-c, k) / C(n, k),
    computed as a product so that large n does not overflow. Unbiased for the pass@k of k fresh
    samples, where 1 - (1 - c/n)^k (sampling with replacement) is biased low."""
    if not 0 <= c <= n:
        raise ValueError(f"c={c} correct of n={n} responses")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs 1 <= k <= n = {n} samples per problem")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def bootstrap_interval(
    values, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (one value per problem)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        raise ValueError("no problems to bootstrap")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class SampledMetrics:
    n_problems: int
    samples_per_problem: int
    accuracy: float  # avg@n, %
    accuracy_interval: tuple[float, float]
    pass_at: dict[int, float]  # k -> pass@k, %
    mean_tokens: float
    mean_tokens_interval: tuple[float, float]
    truncated_rate: float  # % of responses cut at the token cap

    def as_dict(self) -> dict:
        return {
            "n_problems": self.n_problems,
            "samples_per_problem": self.samples_per_problem,
            "accuracy": self.accuracy,
            "accuracy_ci95": list(self.accuracy_interval),
            **{f"pass@{k}": v for k, v in self.pass_at.items()},
            "mean_tokens": self.mean_tokens,
            "mean_tokens_ci95": list(self.mean_tokens_interval),
            "truncated_rate": self.truncated_rate,
        }


def sampled_metrics(samples: pd.DataFrame, ks=(1,), seed: int = 0) -> SampledMetrics:
    """avg@n, pass@k for each k in `ks` and mean tokens, each with its interval, from rows of
    `problem_id, correct, n_tokens, truncated` (the same n rows for every problem)."""
    per_problem = samples.groupby("problem_id", sort=True).agg(
        n=("correct", "size"), c=("correct", "sum"), tokens=("n_tokens", "mean")
    )
    sizes = set(per_problem["n"])
    if len(sizes) != 1:
        raise ValueError(f"problems have different numbers of samples: {sorted(sizes)}")
    n = sizes.pop()
    accuracy = per_problem["c"] / n
    return SampledMetrics(
        n_problems=len(per_problem),
        samples_per_problem=n,
        accuracy=float(100 * accuracy.mean()),
        accuracy_interval=tuple(100 * v for v in bootstrap_interval(accuracy, seed)),
        pass_at={k: float(100 * np.mean([pass_at_k(n, int(c), k) for c in per_problem["c"]])) for k in sorted(set(ks))},
        mean_tokens=float(per_problem["tokens"].mean()),
        mean_tokens_interval=bootstrap_interval(per_problem["tokens"], seed),
        truncated_rate=float(100 * samples["truncated"].mean()),
    )
