"""Uncertainty and significance: bootstrap intervals of every metric, exact paired McNemar tests.

Upstream reports point estimates only. Here every per-model mean carries a 95% percentile-bootstrap
interval (items resampled with replacement), corpus BLEU included (resampling sacrebleu's
per-sentence n-gram statistics, so no text is re-tokenised), and every pair of models is compared
on the items both were decided on with McNemar's exact test: under the null hypothesis the
discordant items (one model right, the other wrong) split 50/50, a two-sided binomial test.
P-values are also given Holm-adjusted over all pairs, since eight models make 28 comparisons.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.judges.base import CORRECT, INCORRECT
from ct_spatial_bench.metrics.accuracy import bootstrap_ci, effective_decisions
from ct_spatial_bench.metrics.text import (
    PER_ITEM_METRICS,
    clean_text,
    corpus_bleu,
    is_empty_prediction,
    scored_metrics,
)

Key = tuple[str, str]  # (model, qa_id)


def metric_intervals(
    per_item_rows: Iterable[dict[str, Any]],
    metrics: Sequence[str] = PER_ITEM_METRICS,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (model, metric): n, mean, ci_low, ci_high over the scored (non-empty) items.

    A metric that was not computed for a model (all None) gets n 0 and NaN figures.
    """
    rows = list(per_item_rows)
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model and not r.get("empty")]
        for metric in metrics:
            values = [float(r[metric]) for r in mine if r.get(metric) is not None]
            low, high = bootstrap_ci(values, n_boot=n_boot, seed=seed)
            out.append({"model": model, "metric": metric, "n": len(values),
                        "mean": float(np.mean(values)) if values else float("nan"),
                        "ci_low": low, "ci_high": high})
    return out


def bleu_interval(
    refs: Sequence[str], preds: Sequence[str], n_boot: int = 1000, seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of sacrebleu corpus BLEU (cleaned text, as ``corpus_bleu``)."""
    from sacrebleu.metrics import BLEU

    if not preds:
        return float("nan"), float("nan")
    bleu = BLEU()
    stats = np.asarray(bleu._extract_corpus_statistics(
        [clean_text(p) for p in preds], [[clean_text(r) for r in refs]]), dtype=np.int64)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(n_boot):
        sample = stats[rng.integers(0, len(stats), size=len(stats))].sum(axis=0)
        scores.append(bleu._compute_score_from_stats([int(x) for x in sample]).score)
    low, high = np.percentile(scores, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def text_metric_intervals(
    per_item_rows: Iterable[dict[str, Any]],
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """``metric_intervals`` plus a ``bleu`` row per model (corpus BLEU over its non-empty pairs)."""
    per_item_rows = list(per_item_rows)
    rows = metric_intervals(per_item_rows, scored_metrics(per_item_rows), n_boot=n_boot, seed=seed)
    answer_of = {qa["qa_id"]: qa["answer"] for qa in qa_items}
    pairs: dict[str, tuple[list[str], list[str]]] = {}
    for pred in predictions:
        if not is_empty_prediction(pred):
            refs, hyps = pairs.setdefault(pred["model"], ([], []))
            refs.append(answer_of[pred["qa_id"]])
            hyps.append(pred["prediction"])
    for model, (refs, hyps) in pairs.items():
        low, high = bleu_interval(refs, hyps, n_boot=n_boot, seed=seed)
        rows.append({"model": model, "metric": "bleu", "n": len(hyps),
                     "mean": corpus_bleu(refs, hyps), "ci_low": low, "ci_high": high})
    return rows


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c (1.0 when b + c is 0)."""
    from scipy.stats import binomtest

    if b + c == 0:
        return 1.0
    return float(binomtest(min(b, c), b + c, 0.5, alternative="two-sided").pvalue)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error), monotone and capped at 1."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def paired_mcnemar(
    decisions: Mapping[Key, str], predictions: Iterable[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every pair of models on their shared decided items: accuracies, discordant counts, p-values.

    An item counts for a pair when both models have a correct or incorrect decision on it (error
    predictions count incorrect when ``predictions`` are given, as in the accuracy tables).
    ``a_only``: items model_a got right and model_b wrong; ``b_only`` the reverse.
    """
    decided = {key: d for key, d in effective_decisions(decisions, predictions).items()
               if d in (CORRECT, INCORRECT)}
    by_model: dict[str, dict[str, bool]] = {}
    for (model, qa_id), decision in decided.items():
        by_model.setdefault(model, {})[qa_id] = decision == CORRECT
    rows = []
    for model_a, model_b in itertools.combinations(sorted(by_model), 2):
        a, b = by_model[model_a], by_model[model_b]
        shared = sorted(set(a) & set(b))
        a_only = sum(a[q] and not b[q] for q in shared)
        b_only = sum(b[q] and not a[q] for q in shared)
        rows.append({
            "model_a": model_a, "model_b": model_b, "n_shared": len(shared),
            "accuracy_a": float(np.mean([a[q] for q in shared])) if shared else float("nan"),
            "accuracy_b": float(np.mean([b[q] for q in shared])) if shared else float("nan"),
            "both_correct": sum(a[q] and b[q] for q in shared),
            "a_only": a_only, "b_only": b_only,
            "both_wrong": sum(not a[q] and not b[q] for q in shared),
            "p_value": mcnemar_exact(a_only, b_only),
        })
    for row, adjusted in zip(rows, holm_adjust([r["p_value"] for r in rows])):
        row["p_holm"] = adjusted
    return rows
