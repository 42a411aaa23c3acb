"""Nodes that score predictions: text similarity, jury decisions, accuracy overall and by category."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def score_text_per_item(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Exact match, token F1, METEOR, ROUGE, SBERT cosine (and AlignScore when configured) of each
    prediction against its answer."""
    from ct_spatial_bench.metrics.text import per_item_text_metrics

    return per_item_text_metrics(qa_items, predictions, sbert=params.get("sbert", True),
                                 meteor=params.get("meteor", "auto"),
                                 alignscore=params.get("alignscore"))


def summarise_text_metrics(
    per_item: list[dict[str, Any]], qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per-model means (and corpus BLEU) over the non-empty predictions, as upstream computes them."""
    from ct_spatial_bench.metrics.text import text_metrics_summary

    return text_metrics_summary(per_item, qa_items, predictions)


def decide_jury(verdicts: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The jury's decision per (model, qa_id) under the configured rule, as saveable rows."""
    from ct_spatial_bench.judges.jury import jury_decision_rows

    return jury_decision_rows(verdicts, params.get("jury_judges"),
                              params.get("jury_rule", "majority"))


def _as_decisions(rows: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    from ct_spatial_bench.records import decisions_by_item

    return decisions_by_item(rows, "jury_decisions")


def score_accuracy(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    decision_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Jury accuracy per model with bootstrap 95% intervals and failed/error/missing counts."""
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model

    return accuracy_by_model(qa_items, predictions, _as_decisions(decision_rows))


def score_categories(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    decision_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Jury accuracy per spatial category and model, with n; errored predictions count wrong."""
    from ct_spatial_bench.metrics.accuracy import accuracy_by_category

    return accuracy_by_category(qa_items, _as_decisions(decision_rows), predictions)


def measure_judge_agreement(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pairwise agreement and Cohen kappa between judges (empty with a single judge)."""
    from ct_spatial_bench.judges.jury import judge_agreement

    return judge_agreement(verdicts)


def estimate_intervals(
    per_item: list[dict[str, Any]], qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]], params: dict[str, Any],
) -> list[dict[str, Any]]:
    """Bootstrap 95% interval of every text metric per model (corpus BLEU included)."""
    from ct_spatial_bench.metrics.intervals import text_metric_intervals

    return text_metric_intervals(per_item, qa_items, predictions,
                                 n_boot=params.get("n_boot", 1000))


def compare_model_pairs(
    decision_rows: list[dict[str, Any]], predictions: list[dict[str, Any]],
    qa_items: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Paired McNemar tests (exact by item, and clustered by volume) of every pair of models on
    their shared decided items."""
    from ct_spatial_bench.metrics.accuracy import volume_of
    from ct_spatial_bench.metrics.intervals import paired_mcnemar

    return paired_mcnemar(_as_decisions(decision_rows), predictions, volume=volume_of(qa_items))


def score_spatial_slots(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per prediction, on each axis the question asks: agree, conflict, missing or hedge."""
    from ct_spatial_bench.metrics.slots import score_slots

    return score_slots(qa_items, predictions)


def tabulate_slot_scores(
    qa_items: list[dict[str, Any]], slot_rows: list[dict[str, Any]], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Slot accuracy (clustered interval), conflict, missing and hedge rates per model, category."""
    from ct_spatial_bench.metrics.slots import slot_table

    return slot_table(qa_items, slot_rows, n_boot=params.get("n_boot", 1000))


def compare_slots_with_jury(
    slot_rows: list[dict[str, Any]], decision_rows: list[dict[str, Any]],
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Kappa of slot-correct against the jury, and the commonest disagreements with examples."""
    from ct_spatial_bench.metrics.slots import slots_against_jury

    return slots_against_jury(slot_rows, _as_decisions(decision_rows), qa_items, predictions)


def analyse_answer_length(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    decision_rows: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Words per answer, accuracy adjusted to the reference length, and accuracy by length bin."""
    from ct_spatial_bench.metrics.length import length_analysis

    return length_analysis(qa_items, predictions, _as_decisions(decision_rows))


def score_subsets(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    decision_rows: list[dict[str, Any]], params: dict[str, Any],
    prior_decision_rows: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Accuracy on the items that need the image and on those upstream's reviewers rejected
    (``params.blind_prior``, ``params.human_review_file``)."""
    from ct_spatial_bench.metrics.subsets import accuracy_on_subsets

    return accuracy_on_subsets(
        qa_items, predictions, _as_decisions(decision_rows),
        blind_prior=params.get("blind_prior", "blind"),
        prior_decisions=_as_decisions(prior_decision_rows) if prior_decision_rows else None,
        human_review_file=params.get("human_review_file"), n_boot=params.get("n_boot", 1000))


def write_report_section(*tables: list[dict]) -> list[dict]:
    """The report's sections on what the jury figure measures (``report_section_metrics``).
    Its eight tables in ``reporting.validity.validity_section``'s order."""
    from ct_spatial_bench.reporting.validity import validity_section

    return validity_section(*tables)
