"""Accuracy on subsets of the benchmark that say what the full figure hides.

- ``needs_image``: the items the blind prior (question text alone, baselines/blind.py) gets wrong.
  An item the prior answers correctly can be scored without looking at the CT.
- ``needs_image_twin``: per model, where its blind twin ran (the same model with the image
  withheld: variant ``blind``, the entry ``<model>_blind``), the items the twin gets wrong.
- ``human_rejected``: items upstream's human review marked non-spatial that the spatial filter
  (Gemini) kept, from upstream's curation/gemini_human_disagreements.json (``type`` spatial,
  ``human`` false, ``gemini`` true), matched to the QA by (case, question, answer).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ct_spatial_bench.metrics.accuracy import effective_decisions, volume_of
from ct_spatial_bench.statistics import cluster_bootstrap_ci
from ct_spatial_bench.records import (BLIND_VARIANT, CORRECT, INCORRECT, as_prediction, entry_of,
                                      qa_item)
from ct_spatial_bench.records import ItemKey as Key  # (entry, qa_id)


def blind_pairs(
    predictions: Iterable[dict[str, Any]], configured: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``{model: blind twin}`` (entries, ``records.entry_of``): every blind control found in
    ``predictions`` (variant ``blind``) whose model answered with the image too, and the
    configured pairs whose two entries both have predictions."""
    predictions = [as_prediction(p) for p in predictions]
    models = {entry_of(p) for p in predictions}
    pairs = {p.model: entry_of(p) for p in predictions
             if p.variant == BLIND_VARIANT and p.model in models}
    for model, twin in (configured or {}).items():
        if model in models and twin in models:
            pairs.setdefault(model, twin)
    return dict(sorted(pairs.items()))


def wrong_items(decisions: Mapping[Key, str], model: str) -> set[str]:
    """qa_ids on which ``model`` was decided incorrect."""
    return {q for (m, q), d in decisions.items() if m == model and d == INCORRECT}


def human_rejected_items(
    qa_items: Iterable[dict[str, Any]], disagreements_path: str | os.PathLike
) -> set[str]:
    """qa_ids of the kept items that upstream's human reviewer marked non-spatial."""
    with open(disagreements_path, encoding="utf-8") as handle:
        rows = json.load(handle)
    rejected = {(r["case"], r["question"].strip(), r["answer"].strip()) for r in rows
                if r.get("type") == "spatial" and r.get("human") is False
                and r.get("gemini") is True}
    return {qa.qa_id for qa in map(qa_item, qa_items)
            if (qa.case_id or None, qa.question.strip(), qa.answer.strip()) in rejected}


def subset_accuracy(
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
    decisions: Mapping[Key, str],
    subsets: Mapping[str, set[str]],
    twin_of: Mapping[str, str] | None = None,
    n_boot: int = 1000, seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (model, subset), ``all`` first: n decided, accuracy and its volume-clustered
    interval. ``twin_of`` (model -> blind twin) adds ``needs_image_twin`` for the models that
    have one; the twins themselves and the subsets' source models are scored like any other."""
    qa_items = list(qa_items)
    volume = volume_of(qa_items)
    decided = {k: d for k, d in effective_decisions(decisions, predictions).items()
               if d in (CORRECT, INCORRECT)}
    models = list(dict.fromkeys(m for m, _ in decided))
    out = []
    for model in models:
        mine = {q: d == CORRECT for (m, q), d in decided.items() if m == model}
        named = {"all": set(mine), **subsets}
        if twin_of and model in twin_of:
            named["needs_image_twin"] = wrong_items(decided, twin_of[model])
        for name, qa_ids in named.items():
            shared = [q for q in mine if q in qa_ids]
            values = [float(mine[q]) for q in shared]
            low, high = cluster_bootstrap_ci(values, [volume[q] for q in shared],
                                             n_boot=n_boot, seed=seed)
            out.append({"model": model, "subset": name, "n": len(values),
                        "accuracy": sum(values) / len(values) if values else float("nan"),
                        "accuracy_ci_low": low, "accuracy_ci_high": high})
    return out


def accuracy_on_subsets(
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
    decisions: Mapping[Key, str],
    blind_prior: str = "blind",
    prior_decisions: Mapping[Key, str] | None = None,
    human_review_file: str | os.PathLike | None = None,
    n_boot: int = 1000,
) -> list[dict[str, Any]]:
    """Accuracy on the items that need the image and on those upstream's reviewers rejected.

    The blind prior's decisions come from ``prior_decisions`` when given (reproduce, where the
    prior is judged apart), else from the model ``blind_prior`` among ``decisions``; ``needs_image``
    is left out when the prior has none. Twins come from the predictions (``blind_pairs``)."""
    qa_items, predictions = list(qa_items), list(predictions)
    prior_decisions = prior_decisions or decisions
    subsets = {}
    if any(m == blind_prior for m, _ in prior_decisions):
        subsets["needs_image"] = wrong_items(prior_decisions, blind_prior)
    if human_review_file:
        subsets["human_rejected"] = human_rejected_items(qa_items, human_review_file)
    return subset_accuracy(qa_items, predictions, decisions, subsets,
                           twin_of=blind_pairs(predictions), n_boot=n_boot)
