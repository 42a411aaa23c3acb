import math

import pytest

from ct_spatial_bench.metrics.intervals import (
    bleu_interval,
    holm_adjust,
    mcnemar_exact,
    metric_intervals,
    paired_mcnemar,
    text_metric_intervals,
)
from ct_spatial_bench.metrics.text import corpus_bleu


def test_mcnemar_exact_on_known_counts():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 10) == pytest.approx(2 * 0.5 ** 10)
    assert mcnemar_exact(3, 7) == mcnemar_exact(7, 3)
    assert mcnemar_exact(5, 5) == pytest.approx(1.0)
    # scipy's exact binomial: 2 * P(X <= 2 | n=12, 1/2) = 2 * 79 / 4096
    assert mcnemar_exact(2, 10) == pytest.approx(2 * 79 / 4096)


def test_holm_adjust_is_stepwise_and_monotone():
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []


def test_paired_mcnemar_uses_only_shared_decided_items():
    decisions = {
        ("a", "q1"): "correct", ("b", "q1"): "incorrect",
        ("a", "q2"): "correct", ("b", "q2"): "correct",
        ("a", "q3"): "incorrect", ("b", "q3"): "correct",
        ("a", "q4"): "correct", ("b", "q4"): "failed",   # not decided for b: left out
        ("a", "q5"): "correct",                          # b has no decision: left out
        ("a", "q6"): "correct", ("b", "q6"): "correct",
    }
    preds = [{"model": "b", "qa_id": "q6", "prediction": "", "status": "error"}]
    (row,) = paired_mcnemar(decisions, preds)
    # q6: b's error prediction is no answer, so q6 is not a shared decided item
    assert (row["model_a"], row["model_b"], row["n_shared"]) == ("a", "b", 3)
    assert (row["both_correct"], row["a_only"], row["b_only"], row["both_wrong"]) == (1, 1, 1, 0)
    assert row["accuracy_a"] == pytest.approx(2 / 3)
    assert row["accuracy_b"] == pytest.approx(2 / 3)
    assert row["p_value"] == pytest.approx(1.0)
    assert row["p_holm"] == row["p_value"]


def test_paired_mcnemar_covers_every_pair():
    decisions = {(m, "q"): "correct" for m in "abc"}
    assert [(r["model_a"], r["model_b"]) for r in paired_mcnemar(decisions)] == [
        ("a", "b"), ("a", "c"), ("b", "c")]


def test_metric_intervals_bracket_the_mean_and_skip_uncomputed():
    rows = [{"model": "m", "qa_id": str(i), "empty": False, "token_f1": (i % 4) / 3,
             "sbert_cosine": None} for i in range(200)]
    rows.append({"model": "m", "qa_id": "e", "empty": True, "token_f1": None})
    out = {r["metric"]: r for r in metric_intervals(rows, ["token_f1", "sbert_cosine"])}
    f1 = out["token_f1"]
    assert f1["n"] == 200
    assert f1["ci_low"] < f1["mean"] < f1["ci_high"]
    assert f1["mean"] == pytest.approx(0.5)
    assert out["sbert_cosine"]["n"] == 0 and math.isnan(out["sbert_cosine"]["mean"])


def test_bleu_interval_brackets_corpus_bleu():
    refs = [f"the nodule is in the {side} upper lobe segment {i}" for i, side in
            zip(range(60), ["left", "right"] * 30)]
    preds = [r if i % 3 else r.replace("upper", "lower") for i, r in enumerate(refs)]
    low, high = bleu_interval(refs, preds, n_boot=200)
    assert low <= corpus_bleu(refs, preds) <= high
    assert all(math.isnan(x) for x in bleu_interval([], []))


def test_text_metric_intervals_add_bleu_per_model():
    items = [{"qa_id": str(i), "answer": "the lesion is in the left lung"} for i in range(5)]
    preds = [{"qa_id": str(i), "model": "m", "prediction": "the lesion is in the left lung",
              "status": "ok"} for i in range(5)]
    per_item = [{"model": "m", "qa_id": str(i), "empty": False, "exact_match": 1.0}
                for i in range(5)]
    rows = {r["metric"]: r for r in text_metric_intervals(per_item, items, preds, n_boot=50)}
    assert rows["bleu"]["mean"] == pytest.approx(100.0)
    assert rows["bleu"]["ci_low"] == pytest.approx(100.0)
    assert rows["exact_match"]["mean"] == 1.0


def test_one_kappa_with_one_convention_for_jury_curation_and_slots():
    import math

    from sklearn.metrics import cohen_kappa_score

    from ct_spatial_bench.curation.agreement import binary_agreement
    from ct_spatial_bench.judges.jury import cohen_kappa as jury_kappa
    from ct_spatial_bench.statistics import cohen_kappa

    a = [True, True, False, True, False, False, True]
    b = [True, False, False, True, True, False, True]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert binary_agreement(a, b)["kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(["correct", "incorrect"], [1, 0]) == pytest.approx(1.0)
    # undefined (one and the same label throughout): NaN everywhere, never 1.0
    assert math.isnan(cohen_kappa([True, True], [True, True]))
    assert math.isnan(jury_kappa([0, 0, 0], [0, 0, 0]))
    assert math.isnan(binary_agreement([True, True], [True, True])["kappa"])
    assert math.isnan(cohen_kappa([], []))
    # one rater constant, the other not: defined (0), as scikit-learn gives
    assert cohen_kappa([1, 1, 1, 1], [1, 0, 1, 1]) == pytest.approx(
        cohen_kappa_score([1, 1, 1, 1], [1, 0, 1, 1]))
