"""Uncertainty and significance: bootstrap intervals of every metric, paired tests between models.

Upstream reports point estimates only. Here every per-model mean carries a 95% percentile-bootstrap
interval resampling volumes (all of a CT's questions together, statistics.py), with the
item-level interval beside it (``*_items``); corpus BLEU is included (resampling sacrebleu's
per-sentence n-gram statistics, so no text is re-tokenised). Every pair of models is compared on the
items both were decided on with McNemar's exact test (discordant items split 50/50 under the null)
and with the clustered McNemar test (``p_clustered``), which is the one to read: the exact test
treats a volume's questions as independent. P-values are also given Holm-adjusted over all pairs,
since eight models make 28 comparisons.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.metrics.accuracy import (
    effective_decisions,
    interval_pair,
    volume_of,
)
from ct_spatial_bench.metrics.normalise import clean_text
from ct_spatial_bench.metrics.text import (
    PER_ITEM_METRICS,
    corpus_bleu,
    is_empty_prediction,
    scored_metrics,
)
from ct_spatial_bench.records import CORRECT, INCORRECT, as_prediction, entry_of, qa_item
from ct_spatial_bench.statistics import cluster_bootstrap_ci, clustered_mcnemar

Key = tuple[str, str]  # (model, qa_id)


def metric_intervals(
    per_item_rows: Iterable[dict[str, Any]],
    metrics: Sequence[str] = PER_ITEM_METRICS,
    n_boot: int = 1000,
    seed: int = 0,
    volume: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per (model, metric): n, mean, the volume-clustered ci_low/ci_high and the
    item-level ci_low_items/ci_high_items over the scored (non-empty) items.

    ``volume`` maps qa_id to its volume (without it every item is its own cluster). A metric that
    was not computed for a model (all None) gets n 0 and NaN figures.
    """
    rows = list(per_item_rows)
    volume = volume or {}
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model and not r.get("empty")]
        for metric in metrics:
            scored = [r for r in mine if r.get(metric) is not None]
            values = [float(r[metric]) for r in scored]
            clusters = [volume.get(r["qa_id"], r["qa_id"]) for r in scored]
            out.append({"model": model, "metric": metric, "n": len(values),
                        "mean": float(np.mean(values)) if values else float("nan"),
                        **interval_pair(values, clusters, n_boot=n_boot, seed=seed)})
    return out


def bleu_interval(
    refs: Sequence[str], preds: Sequence[str], n_boot: int = 1000, seed: int = 0,
    alpha: float = 0.05, clusters: Sequence[str] | None = None,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of sacrebleu corpus BLEU (cleaned text, as ``corpus_bleu``).

    With ``clusters`` (one volume per pair) whole volumes are resampled: their n-gram statistics
    are summed per volume first. Replicates that draw no 4-gram at all (every answer shorter than
    four words) have no BLEU and are left out; (nan, nan) when all are."""
    from sacrebleu.metrics import BLEU

    if not preds:
        return float("nan"), float("nan")
    bleu = BLEU()
    stats = np.asarray(bleu._extract_corpus_statistics(
        [clean_text(p) for p in preds], [[clean_text(r) for r in refs]]), dtype=np.int64)
    if clusters is not None:
        _, codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
        summed = np.zeros((codes.max() + 1, stats.shape[1]), dtype=np.int64)
        np.add.at(summed, codes, stats)
        stats = summed
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(n_boot):
        sample = stats[rng.integers(0, len(stats), size=len(stats))].sum(axis=0)
        if (sample[-4:] == 0).any():  # no 4-grams drawn (answers of < 4 words): BLEU undefined,
            continue                  # not 0, so the replicate says nothing
        scores.append(bleu._compute_score_from_stats([int(x) for x in sample]).score)
    if not scores:
        return float("nan"), float("nan")
    low, high = np.percentile(scores, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def text_metric_intervals(
    per_item_rows: Iterable[dict[str, Any]],
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """``metric_intervals`` plus a ``bleu`` row per model (corpus BLEU over its non-empty pairs),
    all clustered by volume with the item-level interval beside."""
    qa_items = [qa_item(qa) for qa in qa_items]
    per_item_rows = list(per_item_rows)
    volume = volume_of(qa_items)
    rows = metric_intervals(per_item_rows, scored_metrics(per_item_rows), n_boot=n_boot, seed=seed,
                            volume=volume)
    answer_of = {qa.qa_id: qa.answer for qa in qa_items}
    pairs: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for pred in map(as_prediction, predictions):
        if not is_empty_prediction(pred):
            refs, hyps, volumes = pairs.setdefault(entry_of(pred), ([], [], []))
            refs.append(answer_of[pred.qa_id])
            hyps.append(pred.prediction)
            volumes.append(volume[pred.qa_id])
    for model, (refs, hyps, volumes) in pairs.items():
        low, high = bleu_interval(refs, hyps, n_boot=n_boot, seed=seed, clusters=volumes)
        item_low, item_high = bleu_interval(refs, hyps, n_boot=n_boot, seed=seed)
        rows.append({"model": model, "metric": "bleu", "n": len(hyps),
                     "mean": corpus_bleu(refs, hyps), "ci_low": low, "ci_high": high,
                     "ci_low_items": item_low, "ci_high_items": item_high})
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
    decisions: Mapping[Key, str], predictions: Iterable[dict[str, Any]] | None = None,
    volume: Mapping[str, str] | None = None, n_boot: int = 1000, seed: int = 0,
) -> list[dict[str, Any]]:
    """Every pair of models on their shared decided items: accuracies, discordant counts, p-values.

    An item counts for a pair when both models have a correct or incorrect decision on it (error
    predictions are left out when ``predictions`` are given, as in the accuracy tables).
    ``a_only``: items model_a got right and model_b wrong; ``b_only`` the reverse. ``p_value`` is
    the item-level exact test; ``p_clustered`` the clustered McNemar test over ``volume`` (qa_id ->
    volume; each item its own volume without it), and ``difference_ci_low/high`` a
    volume-clustered bootstrap interval of accuracy_a - accuracy_b.
    """
    volume = volume or {}
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
        clusters = [volume.get(q, q) for q in shared]
        rows[-1]["p_clustered"] = clustered_mcnemar([a[q] for q in shared],
                                                    [b[q] for q in shared], clusters)[1]
        low, high = cluster_bootstrap_ci([float(a[q]) - float(b[q]) for q in shared], clusters,
                                         n_boot=n_boot, seed=seed)
        rows[-1].update(difference_ci_low=low, difference_ci_high=high)
    for column in ("p_value", "p_clustered"):
        holm = "p_holm" if column == "p_value" else "p_clustered_holm"
        for row, adjusted in zip(rows, holm_adjust([r[column] for r in rows])):
            row[holm] = adjusted
    return rows
