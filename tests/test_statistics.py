"""Volume-clustered bootstrap and McNemar test, checked against hand computations."""

import itertools
import math

import numpy as np
import pytest
from scipy.stats import chi2

from ct_spatial_bench.metrics.accuracy import accuracy_by_model
from ct_spatial_bench.metrics.intervals import bleu_interval, paired_mcnemar
from ct_spatial_bench.statistics import (
    bootstrap_ci,
    cluster_bootstrap_ci,
    cluster_bootstrap_means,
    clustered_mcnemar,
    width_ratio,
)


def test_two_clusters_give_the_exact_bootstrap_distribution():
    # Volume A: two right answers; volume B: one wrong. Drawing 2 volumes with replacement:
    # AA -> 4/4 = 1, AB or BA -> 2/3, BB -> 0/2 = 0, with probabilities 1/4, 1/2, 1/4.
    means = cluster_bootstrap_means([1, 1, 0], ["A", "A", "B"], n_boot=20_000, seed=1)
    values, counts = np.unique(np.round(means, 6), return_counts=True)
    assert list(values) == pytest.approx([0.0, 2 / 3, 1.0])
    assert counts / counts.sum() == pytest.approx([0.25, 0.5, 0.25], abs=0.015)


def test_equal_sized_clusters_resample_like_their_means():
    # With equal cluster sizes the pooled mean of drawn clusters is the mean of their means, so
    # the clustered bootstrap is the item bootstrap of the cluster means (same draws, same seed).
    rng = np.random.default_rng(3)
    values = rng.integers(0, 2, size=(40, 5)).astype(float)
    clusters = [f"v{i:02d}" for i in range(40) for _ in range(5)]
    clustered = cluster_bootstrap_ci(values.ravel(), clusters, n_boot=500, seed=7)
    assert clustered == pytest.approx(bootstrap_ci(values.mean(axis=1), n_boot=500, seed=7))


def test_correlated_questions_widen_the_interval():
    # 50 volumes x 6 questions all answered alike: as informative as 50 questions, not 300.
    clusters = [i for i in range(50) for _ in range(6)]
    values = [float(i % 2) for i in clusters]
    clustered = cluster_bootstrap_ci(values, clusters, n_boot=2000)
    items = bootstrap_ci(values, n_boot=2000)
    # The binomial standard error ratio is sqrt(300 / 50) = 2.45.
    assert width_ratio(clustered, items) == pytest.approx(math.sqrt(6), rel=0.15)
    assert all(math.isnan(x) for x in cluster_bootstrap_ci([], []))


def test_clustered_mcnemar_by_hand():
    # Volume differences (a right - b right): v1 = 2 - 0, v2 = 1 - 1, v3 = 0 - 1, v4 = 1 - 0.
    a = [1, 1, 0,  1, 0,  0, 1, 1]
    b = [0, 0, 0,  0, 1,  1, 1, 0]
    v = ["v1", "v1", "v1", "v2", "v2", "v3", "v3", "v4"]
    statistic, p = clustered_mcnemar(a, b, v)
    # d = (2, 0, -1, 1): (sum d)^2 / sum d^2 = 4 / 6
    assert statistic == pytest.approx(4 / 6)
    assert p == pytest.approx(chi2.sf(4 / 6, 1))
    # one item per volume: McNemar's chi-square (b - c)^2 / (b + c) without continuity correction
    statistic, _ = clustered_mcnemar(a, b, range(8))
    assert statistic == pytest.approx((4 - 2) ** 2 / (4 + 2))
    assert clustered_mcnemar([1, 0], [1, 0], ["x", "y"]) == (0.0, 1.0)


def test_paired_mcnemar_reports_the_clustered_test():
    decisions = {}
    for i, (ra, rb) in enumerate(itertools.product([0, 1], repeat=2)):
        decisions[("a", f"q{i}")] = "correct" if ra else "incorrect"
        decisions[("b", f"q{i}")] = "correct" if rb else "incorrect"
    volume = {"q0": "v", "q1": "v", "q2": "w", "q3": "w"}
    (row,) = paired_mcnemar(decisions, volume=volume, n_boot=200)
    # q1: b only, q2: a only; volume v: d = -1, w: d = +1 -> statistic 0, p 1
    assert row["p_clustered"] == pytest.approx(1.0)
    assert row["difference_ci_low"] <= 0 <= row["difference_ci_high"]


def test_accuracy_intervals_are_clustered_by_case():
    items = [{"qa_id": f"{c}:{k}", "case_id": c} for c in range(30) for k in range(4)]
    preds = [{"model": "m", "qa_id": qa["qa_id"], "status": "ok"} for qa in items]
    decisions = {("m", qa["qa_id"]): "correct" if qa["case_id"] % 3 else "incorrect"
                 for qa in items}
    (row,) = accuracy_by_model(items, preds, decisions, n_boot=500)
    # clusters are taken in the order of their labels (as text), as the helper above resamples
    by_case = [float(c % 3 != 0) for c in sorted(range(30), key=str)]
    assert (row["accuracy_ci_low"], row["accuracy_ci_high"]) == pytest.approx(
        bootstrap_ci(by_case, n_boot=500))
    assert (row["accuracy_ci_high"] - row["accuracy_ci_low"]
            > row["accuracy_ci_high_items"] - row["accuracy_ci_low_items"])


def test_bleu_interval_leaves_out_replicates_without_4grams():
    refs = ["left", "right lung", "upper lobe"]
    low, high = bleu_interval(refs, refs, n_boot=100)
    assert math.isnan(low) and math.isnan(high)  # never 0 for perfect answers
    refs = ["the nodule is in the left upper lobe", "right"]
    low, high = bleu_interval(refs, refs, n_boot=100, clusters=["v", "w"])
    assert (low, high) == pytest.approx((100.0, 100.0))
