"""Length analysis: the fixed-effects logit against sklearn's unpenalised fit, bins by hand."""

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from ct_spatial_bench.metrics.length import (
    accuracy_by_length_bin,
    answer_words,
    fit_fixed_effects_logit,
    length_adjusted_accuracy,
)


def _two_models(seed=0, n=300):
    rng = np.random.default_rng(seed)
    rows = []
    for model, base, mean_words in (("terse", -1.0, 3), ("verbose", -0.5, 60)):
        words = np.maximum(1, rng.poisson(mean_words, size=n))
        p = 1 / (1 + np.exp(-(base + 0.8 * np.log(words))))
        for i, (w, y) in enumerate(zip(words, rng.random(n) < p)):
            rows.append((model, f"q{i}", int(w), bool(y)))
    return rows


def test_fixed_effects_logit_matches_sklearn():
    rows = _two_models()
    groups = np.array([0 if m == "terse" else 1 for m, _, _, _ in rows])
    log_words = np.log([w for _, _, w, _ in rows])
    y = np.array([float(c) for *_, c in rows])
    intercepts, slope = fit_fixed_effects_logit(y, groups, log_words)
    design = np.column_stack([groups == 0, groups == 1, log_words]).astype(float)
    reference = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10,
                                   max_iter=10_000).fit(design, y)
    assert [*intercepts, slope] == pytest.approx(reference.coef_[0], abs=1e-4)


def test_adjusted_accuracy_is_the_fit_at_the_reference_median():
    rows = _two_models()
    items = [{"qa_id": f"q{i}", "answer": "right upper lobe nodule"} for i in range(300)]
    items[0]["answer"] = "right"  # median of reference words stays 4
    preds = [{"model": m, "qa_id": q, "prediction": " ".join(["w"] * w), "status": "ok"}
             for m, q, w, _ in rows]
    decisions = {(m, q): "correct" if c else "incorrect" for m, q, _, c in rows}
    out = {r["model"]: r for r in length_adjusted_accuracy(items, preds, decisions)}
    groups = np.array([0 if m == "terse" else 1 for m, _, _, _ in rows])
    design = np.column_stack([groups == 0, groups == 1, np.log([w for _, _, w, _ in rows])])
    coef = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10, max_iter=10_000).fit(
        design.astype(float), [float(c) for *_, c in rows]).coef_[0]
    for k, model in enumerate(("terse", "verbose")):
        expected = 1 / (1 + math.exp(-(coef[k] + coef[2] * math.log(4))))
        assert out[model]["accuracy_length_adjusted"] == pytest.approx(expected, abs=1e-4)
        assert out[model]["reference_words_median"] == 4
    assert out["verbose"]["share_near_reference"] == 0.0
    assert out["terse"]["log_odds_per_doubling"] == pytest.approx(coef[2] * math.log(2), abs=1e-4)


def test_a_model_of_one_class_keeps_its_raw_accuracy():
    items = [{"qa_id": f"q{i}", "answer": "left"} for i in range(4)]
    preds = [{"model": m, "qa_id": f"q{i}", "prediction": "x " * (i + 1), "status": "ok"}
             for m in ("a", "b") for i in range(4)]
    decisions = {("a", f"q{i}"): "correct" for i in range(4)}
    decisions.update({("b", f"q{i}"): "correct" if i in (0, 3) else "incorrect"
                      for i in range(4)})
    out = {r["model"]: r for r in length_adjusted_accuracy(items, preds, decisions)}
    assert out["a"]["accuracy_length_adjusted"] == 1.0 and not out["a"]["fitted"]
    assert out["b"]["fitted"]


def test_length_bins_by_hand():
    preds = [{"model": "m", "qa_id": str(i), "prediction": t, "status": "ok"}
             for i, t in enumerate(["left", "the left lung", "in the left lower lobe base",
                                    "", "bad"])]
    preds[4]["status"] = "error"
    decisions = {("m", "0"): "correct", ("m", "1"): "incorrect", ("m", "2"): "correct",
                 ("m", "3"): "incorrect", ("m", "4"): "incorrect"}
    bins = {r["length_bin"]: r for r in accuracy_by_length_bin(preds, decisions)}
    assert list(bins) == ["0", "1-2", "3-5", "6-10"]
    assert (bins["1-2"]["n"], bins["1-2"]["accuracy"]) == (1, 1.0)
    assert (bins["3-5"]["n"], bins["3-5"]["accuracy"]) == (1, 0.0)
    assert bins["6-10"]["words_mean"] == 6
    assert answer_words("  two  words ") == 2
