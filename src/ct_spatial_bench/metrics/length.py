"""Answer length against jury accuracy: words per answer, accuracy by length bin, and a
length-standardised accuracy.

Across upstream's eight models mean answer length and jury accuracy correlate at r = 0.97: a
verbose model may name the right finding among many, a terse one has to be exactly right. But the
question decides much of both: open questions ("Where is the nodule?") are harder and draw longer
answers than closed ones ("Is it in the left lung?"). So the model of correctness is

    logit P(correct) = a_model + b_model * log(words) + question-type effects,

the question-type effects being one per category the item is tagged with, one per answer type
(the reference is yes/no, a side, a lobe, a level, a depth, a centricity, a measurement, other)
and one for closed questions (yes/no or an explicit "A or B"). It is fitted by scikit-learn's
logistic regression with a light ridge penalty (C = 1), so it stays finite where length or a
question type separates correct from incorrect answers (an unpenalised Newton fit diverges
there). ``b_model`` is each model's own slope: how its correctness moves with its answers' length
on questions of the same type.

**Standardised accuracy**: each model's fitted probability averaged over every item of the
benchmark, each item at its own reference answer's length and with its own question type; the
answer to "what would this model score if it answered every question at the length of the
reference answer". Its 95% interval and the slopes' come from a volume-clustered bootstrap
(volumes drawn with replacement, the model refitted on each draw). It can separate length from
question type only through the types coded here; it cannot say whether a long answer is right
*because* it is long (naming more candidates) or because the model knew more about that item.
Where a model's answers are far from the reference length (``share_near_reference`` small:
answers within a factor 2 of it) the figure is an extrapolation along the model's own slope.
Error predictions and undecided items are left out of the fit (no answer length or no decision).
A model right (or wrong) on every decided item keeps its raw accuracy and has no slope.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ct_spatial_bench.records import CORRECT, ERROR, as_prediction, entry_of, qa_item

LENGTH_BINS = ((1, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, None))
ANSWER_TYPES = ("yes/no", "lobe", "side", "vertical", "depth", "centricity", "measurement",
                "other")
RIDGE_C = 1.0  # scikit-learn's default: finite under separation, negligible at upstream's n
_AUXILIARY = re.compile(r"^\s*(is|are|was|were|does|do|did|has|have|can|could|should|will)\b",
                        re.IGNORECASE)
_MEASUREMENT = re.compile(r"\d|\b(one|two|three|four|five|single|multiple)\b", re.IGNORECASE)


def answer_words(text: str | None) -> int:
    """Whitespace-separated words of an answer."""
    return len((text or "").split())


def bin_label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


def _bin_of(words: int) -> str:
    for low, high in LENGTH_BINS:
        if words >= low and (high is None or words <= high):
            return bin_label(low, high)
    return "0"


def answer_type(answer: str) -> str:
    """What the reference answer names: yes/no, a lobe, a side, a level, a depth, a centricity,
    a measurement (a number or count) or other, the first that applies in that order."""
    from ct_spatial_bench.spatial.terms import extract_spatial_terms

    words = (answer or "").strip().lower().split()
    if words and words[0].strip(".,;:!") in ("yes", "no"):
        return "yes/no"
    terms = extract_spatial_terms(answer or "")
    for axis in ("lobe", "side", "vertical", "depth", "centricity"):
        if terms.get(axis):
            return axis
    return "measurement" if _MEASUREMENT.search(answer or "") else "other"


def is_closed_question(question: str) -> bool:
    """A yes/no question or an explicit choice ("upper or lower"): the answer is one of a few."""
    return bool(_AUXILIARY.match(question or "")) or " or " in f" {(question or '').lower()} "


def question_type_features(qa_items: Iterable[dict[str, Any]]) -> dict[str, np.ndarray]:
    """qa_id -> 0/1 features: each category, each answer type but 'other', closed."""
    from ct_spatial_bench.spatial.categories import CATEGORIES, canonical_category

    out = {}
    for qa in map(qa_item, qa_items):
        tagged = {canonical_category(c) for c in qa.categories or []}
        kind = answer_type(qa.answer)
        out[qa.qa_id] = np.array(
            [float(c in tagged) for c in CATEGORIES]
            + [float(kind == t) for t in ANSWER_TYPES[:-1]]
            + [float(is_closed_question(qa.question))])
    return out


def _design(model_index: np.ndarray, log_words: np.ndarray, types: np.ndarray,
            n_models: int) -> np.ndarray:
    """[one intercept per model | one log-length slope per model | question-type effects]."""
    onehot = np.zeros((model_index.size, n_models))
    onehot[np.arange(model_index.size), model_index] = 1.0
    return np.hstack([onehot, onehot * log_words[:, None], types])


def fit_length_model(outcome: np.ndarray, model_index: np.ndarray, log_words: np.ndarray,
                     types: np.ndarray, n_models: int) -> np.ndarray:
    """Coefficients of the model of correctness above (scikit-learn, ridge C = RIDGE_C, lbfgs).
    Needs both outcomes among the rows (one class has no logistic fit at all)."""
    from sklearn.linear_model import LogisticRegression

    design = _design(model_index, log_words, types, n_models)
    fit = LogisticRegression(C=RIDGE_C, fit_intercept=False, max_iter=5000, tol=1e-8)
    return fit.fit(design, outcome).coef_[0]


def standardised_accuracy(coef: np.ndarray, n_models: int, ref_log_words: np.ndarray,
                          item_types: np.ndarray) -> np.ndarray:
    """Per model, the fitted probability averaged over the items at their reference length."""
    out = np.empty(n_models)
    for m in range(n_models):
        index = np.full(ref_log_words.size, m)
        logit = _design(index, ref_log_words, item_types, n_models) @ coef
        out[m] = float(np.mean(1.0 / (1.0 + np.exp(-logit))))
    return out


def _decided_lengths(
    predictions: Iterable[dict[str, Any]], decisions: Mapping[tuple[str, str], str]
) -> list[tuple[str, str, int, float]]:
    """(model, qa_id, words, 1.0 correct / 0.0 incorrect) of the ok, decided predictions."""
    out = []
    for pred in map(as_prediction, predictions):
        decision = decisions.get(pred.key)
        if pred.status == ERROR or decision not in ("correct", "incorrect"):
            continue
        out.append((entry_of(pred), pred.qa_id, answer_words(pred.prediction),
                    float(decision == CORRECT)))
    return out


def _estimates(rows: list[tuple[int, str, float, float]], items: list[str],
               features: Mapping[str, np.ndarray], ref_log: Mapping[str, float],
               n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """(standardised accuracy per model, slope per model) of one sample of rows and items."""
    classes: dict[int, set[float]] = {}
    for m, _, _, y in rows:
        classes.setdefault(m, set()).add(y)
    constant = {m: c.pop() for m, c in classes.items() if len(c) == 1}
    # A model right (or wrong) on every decided item has no length effect to fit, and a
    # penalised fit would pull it off 1 (or 0): it keeps its raw figure and no slope.
    fitted = [r for r in rows if r[0] not in constant]
    standardised, slopes = np.full(n_models, np.nan), np.full(n_models, np.nan)
    if fitted:
        coef = fit_length_model(np.array([y for *_, y in fitted]),
                                np.array([m for m, *_ in fitted]),
                                np.array([w for _, _, w, _ in fitted]),
                                np.array([features[q] for _, q, _, _ in fitted]), n_models)
        standardised = standardised_accuracy(coef, n_models,
                                             np.array([ref_log[q] for q in items]),
                                             np.array([features[q] for q in items]))
        slopes = coef[n_models:2 * n_models].copy()
    for m, value in constant.items():
        standardised[m], slopes[m] = value, np.nan
    return standardised, slopes


def length_standardised_accuracy(
    qa_items: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str], n_boot: int = 200, seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per model: answer words, raw accuracy, the length-standardised accuracy with its
    volume-clustered interval, the model's own slope (log-odds per doubling of length) with its
    interval, and the share of its answers within a factor 2 of the reference length."""
    from ct_spatial_bench.metrics.accuracy import volume_of

    qa_items = [qa_item(qa) for qa in qa_items]
    predictions = [as_prediction(p) for p in predictions]
    features = question_type_features(qa_items)
    ref_log = {qa.qa_id: math.log(max(answer_words(qa.answer), 1)) for qa in qa_items}
    reference_words = float(np.median([answer_words(qa.answer) for qa in qa_items]))
    models = list(dict.fromkeys(map(entry_of, predictions)))
    decided = [(models.index(m), q, math.log(max(w, 1)), y)
               for m, q, w, y in _decided_lengths(predictions, decisions) if q in features]
    items = [qa.qa_id for qa in qa_items]
    nan = float("nan")
    point = (np.full(len(models), nan), np.full(len(models), nan))
    draws_std, draws_slope = [], []
    if decided:
        point = _estimates(decided, items, features, ref_log, len(models))
        volume = volume_of(qa_items)
        by_volume: dict[str, tuple[list, list]] = {}
        for q in items:
            by_volume.setdefault(volume[q], ([], []))[1].append(q)
        for row in decided:
            by_volume[volume[row[1]]][0].append(row)
        volumes = list(by_volume)
        rng = np.random.default_rng(seed)
        for _ in range(n_boot):
            drawn = [volumes[k] for k in rng.integers(0, len(volumes), len(volumes))]
            rows = [r for v in drawn for r in by_volume[v][0]]
            if len({r[0] for r in rows}) < len(models):
                continue  # a model with no decided item drawn: no estimate of its effects
            std, slope = _estimates(rows, [q for v in drawn for q in by_volume[v][1]],
                                    features, ref_log, len(models))
            draws_std.append(std)
            draws_slope.append(slope)
    std_ci = _percentiles(draws_std, len(models))
    slope_ci = _percentiles(draws_slope, len(models))
    out = []
    for k, model in enumerate(models):
        words = [answer_words(p.prediction) for p in predictions
                 if entry_of(p) == model and p.status != ERROR]
        outcomes = [y for m, _, _, y in decided if m == k]
        near = [reference_words / 2 <= w <= reference_words * 2 for w in words]
        out.append({
            "model": model, "n_decided": len(outcomes),
            "answer_words_mean": float(np.mean(words)) if words else nan,
            "answer_words_median": float(np.median(words)) if words else nan,
            "reference_words_median": reference_words,
            "accuracy": float(np.mean(outcomes)) if outcomes else nan,
            "accuracy_length_standardised": float(point[0][k]) if outcomes else nan,
            "accuracy_length_standardised_ci_low": std_ci[0][k] if outcomes else nan,
            "accuracy_length_standardised_ci_high": std_ci[1][k] if outcomes else nan,
            "log_odds_per_doubling": float(point[1][k]) * math.log(2) if outcomes else nan,
            "log_odds_per_doubling_ci_low": slope_ci[0][k] * math.log(2) if outcomes else nan,
            "log_odds_per_doubling_ci_high": slope_ci[1][k] * math.log(2) if outcomes else nan,
            "share_near_reference": float(np.mean(near)) if near else nan,
            "n_boot": len(draws_std),
        })
    return out


def _percentiles(draws: list[np.ndarray], n_models: int) -> tuple[list[float], list[float]]:
    """Per model, the 2.5th and 97.5th percentiles of its estimates over the draws that have
    one. A model with none (no draws at all, or a slope that is NaN in every draw because the
    model was right, or wrong, on every decided item) has no interval: NaN, said as such."""
    low, high = [float("nan")] * n_models, [float("nan")] * n_models
    table = np.array(draws, dtype=float).reshape(len(draws), n_models)
    for m in range(n_models):
        finite = table[:, m][~np.isnan(table[:, m])]
        if finite.size:
            low[m], high[m] = (float(v) for v in np.percentile(finite, [2.5, 97.5]))
    return low, high


def accuracy_by_length_bin(
    predictions: Iterable[dict[str, Any]], decisions: Mapping[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """One row per (model, length bin) with any decided answer: n, accuracy, mean words."""
    cells: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for model, _, words, y in _decided_lengths(predictions, decisions):
        cells.setdefault((model, _bin_of(words)), []).append((words, y))
    order = ["0", *(bin_label(lo, hi) for lo, hi in LENGTH_BINS)]
    return [{"model": model, "length_bin": label, "n": len(cells[(model, label)]),
             "accuracy": float(np.mean([y for _, y in cells[(model, label)]])),
             "words_mean": float(np.mean([w for w, _ in cells[(model, label)]]))}
            for model in dict.fromkeys(m for m, _ in cells)
            for label in order if (model, label) in cells]


def length_analysis(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str], n_boot: int = 200,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Accuracy standardised to the reference length and question type, and by length bin."""
    return (length_standardised_accuracy(qa_items, predictions, decisions, n_boot=n_boot),
            accuracy_by_length_bin(predictions, decisions))
