"""Answer length against jury accuracy: words per answer, accuracy by length bin, and a
length-adjusted accuracy.

Across upstream's eight models mean answer length and jury accuracy correlate at r = 0.97: a
verbose model may name the right finding among many, a terse one has to be exactly right. The
length-adjusted accuracy asks what each model would score at the reference answers' length.

Method: a logistic regression of the jury decision (1 correct, 0 incorrect) on log(words) with one
intercept per model (model fixed effects) and one common slope,

    logit P(correct) = a_model + b * log(words),

fitted by maximum likelihood (Newton-Raphson). The fixed effects absorb everything that differs
between models (their skill included), so the slope is estimated from length variation *within*
each model's own answers, not from the between-model confound that the raw correlation mixes in.
Each model's adjusted accuracy is its fitted probability at the median word count of the
reference answers: a_model + b * log(median reference words). Where a model's answers are far
from that length (``share_near_reference`` small: answers within a factor 2 of it), the figure is
an extrapolation along the common slope, and says so. A model whose decisions are all one class
has no finite intercept; it is left out of the fit and keeps its raw accuracy (``fitted`` False).
Error predictions and undecided items are left out (they have no answer length or no decision).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

LENGTH_BINS = ((1, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, None))


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


def fit_fixed_effects_logit(
    outcome: np.ndarray, groups: np.ndarray, covariate: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """Maximum-likelihood ``(intercepts per group 0..G-1, common slope)`` of
    logit P(outcome) = a_group + b * covariate, by Newton-Raphson."""
    n_groups = int(groups.max()) + 1
    design = np.zeros((outcome.size, n_groups + 1))
    design[np.arange(outcome.size), groups] = 1.0
    design[:, -1] = covariate
    beta = np.zeros(n_groups + 1)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        hessian = design.T @ (design * (p * (1 - p))[:, None])
        step = np.linalg.solve(hessian, design.T @ (outcome - p))
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta[:-1], float(beta[-1])


def _decided_lengths(
    predictions: Iterable[dict[str, Any]], decisions: Mapping[tuple[str, str], str]
) -> list[tuple[str, str, int, float]]:
    """(model, qa_id, words, 1.0 correct / 0.0 incorrect) of the ok, decided predictions."""
    out = []
    for pred in predictions:
        decision = decisions.get((pred["model"], pred["qa_id"]))
        if pred.get("status") == "error" or decision not in ("correct", "incorrect"):
            continue
        out.append((pred["model"], pred["qa_id"], answer_words(pred.get("prediction")),
                    float(decision == "correct")))
    return out


def length_adjusted_accuracy(
    qa_items: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """One row per model: answer words (mean, median), reference median words, raw and
    length-adjusted accuracy, the common slope (log-odds per doubling of length), the share of
    its answers within a factor 2 of the reference length, and whether it was in the fit."""
    predictions = list(predictions)
    reference_words = float(np.median([answer_words(qa["answer"]) for qa in qa_items]))
    at = math.log(max(reference_words, 1.0))
    decided = _decided_lengths(predictions, decisions)
    models = list(dict.fromkeys(p["model"] for p in predictions))
    by_model = {m: [(w, y) for mm, _, w, y in decided if mm == m] for m in models}
    fitted = [m for m in models if len({y for _, y in by_model[m]}) == 2]
    intercepts, slope = {}, float("nan")
    if fitted:
        rows = [(fitted.index(m), w, y) for m, _, w, y in decided if m in fitted]
        groups = np.array([g for g, _, _ in rows])
        log_words = np.log(np.maximum([w for _, w, _ in rows], 1))
        if np.ptp(log_words) > 0:
            a, slope = fit_fixed_effects_logit(np.array([y for _, _, y in rows]), groups,
                                               log_words)
            intercepts = dict(zip(fitted, a))
    out = []
    for model in models:
        words = [answer_words(p.get("prediction")) for p in predictions
                 if p["model"] == model and p.get("status") != "error"]
        outcomes = [y for _, y in by_model[model]]
        raw = float(np.mean(outcomes)) if outcomes else float("nan")
        if model in intercepts:
            adjusted = float(1.0 / (1.0 + math.exp(-(intercepts[model] + slope * at))))
        else:
            adjusted = raw if model not in fitted else float("nan")
        near = [reference_words / 2 <= w <= reference_words * 2 for w in words]
        out.append({
            "model": model, "n_decided": len(outcomes),
            "answer_words_mean": float(np.mean(words)) if words else float("nan"),
            "answer_words_median": float(np.median(words)) if words else float("nan"),
            "reference_words_median": reference_words, "accuracy": raw,
            "accuracy_length_adjusted": adjusted, "fitted": model in intercepts,
            "log_odds_per_doubling": slope * math.log(2),
            "share_near_reference": float(np.mean(near)) if near else float("nan"),
        })
    return out


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
