"""Statistics shared by metrics and judges: bootstrap intervals (items, or volumes as clusters),
the clustered McNemar test, and Cohen's and Fleiss' kappa.

Intervals and paired tests that respect the volume: questions about one CT are not independent.

CT-SpatialVQA asks ~5.7 questions per volume. A model that misreads a scan's orientation gets
several of its questions wrong together, so resampling items as if independent gives intervals
that are too narrow. Here the unit of resampling is the volume (``case_id``): a bootstrap replicate
draws volumes with replacement and keeps all of each one's questions, and the mean is the ratio of
summed values to summed counts (the items actually drawn). The paired test between two models is
Durkalski et al.'s (2003, Stat Med 22:2417) clustered McNemar statistic,
``(sum_k (b_k - c_k))^2 / sum_k (b_k - c_k)^2`` on 1 degree of freedom, where ``b_k`` and ``c_k``
are volume k's discordant counts; with one question per volume it is McNemar's chi-square.
The design effect is reported as the ratio of the clustered to the item-level interval width.

Agreement between two raters is Cohen's kappa from scikit-learn, for every caller (jury, curation,
offline judge, slot score). Convention: where kappa is undefined (chance agreement 1, both raters
gave one and the same label throughout) it is NaN, never 1; so is a kappa of no pairs.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.records import CORRECT


def cluster_bootstrap_means(
    values: Sequence[float], clusters: Sequence[Hashable], n_boot: int = 1000, seed: int = 0
) -> np.ndarray:
    """``n_boot`` means of ``values``, each over clusters drawn with replacement (all their
    items)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return np.empty(0)
    if len(clusters) != data.size:
        raise ValueError(f"{data.size} values but {len(clusters)} cluster labels")
    _, codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    sums = np.bincount(codes, weights=data)
    counts = np.bincount(codes).astype(float)
    n_clusters = sums.size
    rng = np.random.default_rng(seed)
    block = max(1, 4_000_000 // n_clusters)
    means = []
    for start in range(0, n_boot, block):
        drawn = rng.integers(0, n_clusters, size=(min(block, n_boot - start), n_clusters))
        means.append(sums[drawn].sum(axis=1) / counts[drawn].sum(axis=1))
    return np.concatenate(means)


def cluster_bootstrap_ci(
    values: Sequence[float], clusters: Sequence[Hashable], n_boot: int = 1000, seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile interval of the mean, resampling whole clusters; (nan, nan) without values."""
    means = cluster_bootstrap_means(values, clusters, n_boot=n_boot, seed=seed)
    if means.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def clustered_mcnemar(
    a_correct: Sequence[bool], b_correct: Sequence[bool], clusters: Sequence[Hashable]
) -> tuple[float, float]:
    """Durkalski's clustered McNemar test of paired binary outcomes: (statistic, p-value).

    (0.0, 1.0) when no cluster has a discordant pair.
    """
    from scipy.stats import chi2

    diff: dict[str, int] = {}
    for a, b, cluster in zip(a_correct, b_correct, clusters, strict=True):
        diff[str(cluster)] = diff.get(str(cluster), 0) + int(bool(a)) - int(bool(b))
    per_cluster = np.asarray(list(diff.values()), dtype=float)
    denominator = float(np.sum(per_cluster ** 2))
    if denominator == 0:
        return 0.0, 1.0
    statistic = float(per_cluster.sum() ** 2 / denominator)
    return statistic, float(chi2.sf(statistic, df=1))


def width_ratio(clustered: tuple[float, float], items: tuple[float, float]) -> float:
    """Clustered interval width over the item-level one (NaN where either is undefined or 0)."""
    item_width = items[1] - items[0]
    if not np.isfinite(item_width) or item_width == 0:
        return float("nan")
    return float((clustered[1] - clustered[0]) / item_width)


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``; (nan, nan) when there are none.

    Resampling is vectorised in blocks of at most ~4 million draws, so 9,077 items x 1,000
    resamples stays small in memory.
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    block = max(1, 4_000_000 // data.size)
    means = []
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        means.append(data[rng.integers(0, data.size, size=(size, data.size))].mean(axis=1))
    boot = np.concatenate(means)
    low, high = np.percentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa (scikit-learn's) of two raters' paired binary labels (bools, 0/1, or
    correct/incorrect); NaN where undefined (see the module's convention)."""
    import warnings

    from sklearn.metrics import cohen_kappa_score

    if len(a) != len(b):
        raise ValueError(f"paired labels differ in length: {len(a)} and {len(b)}")
    x, y = _as_binary(a), _as_binary(b)
    if x.size == 0 or (np.all(x == x[0]) and np.all(y == x[0])):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohen_kappa_score(x, y, labels=[0, 1]))


def _as_binary(labels: Sequence[Any]) -> np.ndarray:
    return np.array([1 if (lab == CORRECT or lab is True or lab == 1) else 0 for lab in labels])


def fleiss_kappa(table: Any) -> float:
    """Fleiss' kappa of a subjects x categories table of rating counts (same raters per subject)."""
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        raise ValueError("expected a non-empty 2-D table of counts (subjects x categories)")
    raters = counts.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        raise ValueError("every subject needs the same number of raters, at least two")
    n = raters[0]
    p_category = counts.sum(axis=0) / counts.sum()
    p_subject = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    observed, chance = p_subject.mean(), float((p_category ** 2).sum())
    if chance >= 1.0:
        return float("nan")
    return float((observed - chance) / (1 - chance))
