"""Length analysis: the per-model-slope model of correctness recovers a simulation's known truth,
survives separation, and its standardised accuracy is the fitted probabilities' mean by hand;
bins by hand."""

import math
import warnings

import numpy as np
import pytest

from ct_spatial_bench.metrics.length import (
    accuracy_by_length_bin,
    answer_type,
    answer_words,
    is_closed_question,
    length_standardised_accuracy,
)

SLOPES = {"terse": -0.6, "verbose": -0.3}  # true log-odds per unit log(words)
INTERCEPTS = {"terse": 1.5, "verbose": 1.2}
OPEN_EFFECT = -1.2  # open questions are harder


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _simulated(seed=0, n_cases=600, per_case=3):
    """Items half closed (yes/no) half open; each model answers open questions longer, its
    lengths spread (log-normal) so that its own slope is identified."""
    rng = np.random.default_rng(seed)
    items, preds, decisions = [], [], {}
    for c in range(n_cases):
        for k in range(per_case):
            qa_id = f"c{c}q{k}"
            closed = (c + k) % 2 == 0
            items.append({"qa_id": qa_id, "case_id": f"c{c}", "categories": [],
                          "question": "Is it left?" if closed else "Where is it?",
                          "answer": "yes" if closed else "right upper lobe"})
    for model, mean_words in (("terse", 3), ("verbose", 25)):
        for qa in items:
            closed = qa["answer"] == "yes"
            spread = rng.normal(math.log(mean_words * (1 if closed else 2)), 0.8)
            words = max(1, int(round(math.exp(spread))))
            logit = (INTERCEPTS[model] + SLOPES[model] * math.log(words)
                     + (0 if closed else OPEN_EFFECT))
            right = rng.random() < _sigmoid(logit)
            preds.append({"model": model, "qa_id": qa["qa_id"],
                          "prediction": " ".join(["w"] * words), "status": "ok"})
            decisions[(model, qa["qa_id"])] = "correct" if right else "incorrect"
    return items, preds, decisions


def test_per_model_slopes_and_standardised_accuracy_recover_the_simulated_truth():
    items, preds, decisions = _simulated()
    out = {r["model"]: r for r in length_standardised_accuracy(items, preds, decisions,
                                                               n_boot=30)}
    for model in SLOPES:
        row = out[model]
        truth = SLOPES[model] * math.log(2)
        assert row["log_odds_per_doubling"] == pytest.approx(truth, abs=0.15)
        assert row["log_odds_per_doubling_ci_low"] < row["log_odds_per_doubling"] \
            < row["log_odds_per_doubling_ci_high"]
        # the truth by hand: each item at its reference length (yes: 1 word, else 3 words)
        expected = np.mean([_sigmoid(INTERCEPTS[model] + SLOPES[model] * math.log(
            answer_words(qa["answer"])) + (0 if qa["answer"] == "yes" else OPEN_EFFECT))
            for qa in items])
        assert row["accuracy_length_standardised"] == pytest.approx(expected, abs=0.03)
        assert row["accuracy_length_standardised_ci_low"] <= row["accuracy_length_standardised"] \
            <= row["accuracy_length_standardised_ci_high"]
        assert row["n_boot"] == 30
    # the slopes differ by model, as upstream's do: a common slope would hide it
    assert out["terse"]["log_odds_per_doubling"] < out["verbose"]["log_odds_per_doubling"]


def test_length_that_separates_right_from_wrong_still_gives_a_finite_fit():
    items = [{"qa_id": f"q{i}", "case_id": f"c{i // 2}", "question": "Where?",
              "answer": "left lung", "categories": []} for i in range(20)]
    preds = [{"model": "m", "qa_id": f"q{i}", "prediction": "w " * (1 + i), "status": "ok"}
             for i in range(20)]
    decisions = {("m", f"q{i}"): "correct" if i < 10 else "incorrect" for i in range(20)}
    (row,) = length_standardised_accuracy(items, preds, decisions, n_boot=10)
    assert all(math.isfinite(row[k]) for k in ("accuracy_length_standardised",
                                               "log_odds_per_doubling"))
    assert row["log_odds_per_doubling"] < 0  # shorter answers were the right ones


def test_a_model_right_everywhere_stands_at_one_without_a_fit():
    items = [{"qa_id": f"q{i}", "case_id": f"c{i % 3}", "question": "Where?", "answer": "left",
              "categories": []} for i in range(12)]
    preds = [{"model": m, "qa_id": f"q{i}", "prediction": "x " * (i + 1), "status": "ok"}
             for m in ("a", "b") for i in range(12)]
    decisions = {("a", f"q{i}"): "correct" for i in range(12)}
    decisions.update({("b", f"q{i}"): "correct" if i % 2 else "incorrect" for i in range(12)})
    with warnings.catch_warnings():  # issue 25: numpy's "All-NaN slice" on the console
        warnings.simplefilter("error")
        out = {r["model"]: r for r in length_standardised_accuracy(items, preds, decisions,
                                                                   n_boot=20)}
    # no shrinkage towards 0.5 for the model right on every item, and no slope to report
    assert out["a"]["accuracy_length_standardised"] == 1.0 and out["a"]["accuracy"] == 1.0
    assert out["a"]["accuracy_length_standardised_ci_low"] == 1.0
    assert math.isnan(out["a"]["log_odds_per_doubling"])
    # ... nor an interval of one: its slope is NaN in every draw
    assert math.isnan(out["a"]["log_odds_per_doubling_ci_low"])
    assert math.isnan(out["a"]["log_odds_per_doubling_ci_high"])
    assert 0 < out["b"]["accuracy_length_standardised"] < 1
    assert math.isfinite(out["b"]["log_odds_per_doubling_ci_low"])


def test_interval_percentiles_skip_the_draws_without_an_estimate():
    from ct_spatial_bench.metrics.length import _percentiles

    nan = float("nan")
    draws = [np.array([1.0, nan, nan]), np.array([nan, nan, 5.0]), np.array([3.0, nan, nan]),
             np.array([2.0, nan, nan])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = _percentiles(draws, 3)
    # by hand, linear interpolation over the sorted finite values 1, 2, 3 (positions 0..2):
    # 2.5 % -> 0.05 -> 1.05; 97.5 % -> 1.95 -> 2.95; one draw (5.0) is its own interval
    assert low[0] == pytest.approx(1.05) and high[0] == pytest.approx(2.95)
    assert math.isnan(low[1]) and math.isnan(high[1])
    assert low[2] == high[2] == 5.0
    assert all(math.isnan(v) for v in _percentiles([], 2)[0])


def test_question_types_by_hand():
    assert answer_type("Yes, in the left lung.") == "yes/no"
    assert answer_type("Right upper lobe") == "lobe"
    assert answer_type("Left lung") == "side"
    assert answer_type("It measures 12 mm") == "measurement"
    assert answer_type("Pleural effusion") == "other"
    assert is_closed_question("Is the nodule in the left lung?")
    assert is_closed_question("Which lobe, upper or lower, holds the nodule?")
    assert not is_closed_question("Where is the nodule?")


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
