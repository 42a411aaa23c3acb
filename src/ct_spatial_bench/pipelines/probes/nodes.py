"""Nodes of the probes: does a model read the CT? Blind gap, left-right flip, perturbations."""

from __future__ import annotations

import logging
from typing import Any

# The model answering transformed volumes is domain code, shared with the mask track's twins.
from ct_spatial_bench.probes.answering import (  # noqa: F401 - nodes of this pipeline
    answer_mirrored,
    answer_perturbed,
    answer_representations,
)

logger = logging.getLogger(__name__)


def select_flip_items(qa_items: list[dict], params: dict[str, Any]) -> tuple[list, list]:
    """The laterality items that can be mirrored (answers swapped) and the excluded ones."""
    from ct_spatial_bench.probes.laterality import select_flip_items as select
    from ct_spatial_bench.spatial.categories import LATERALITY

    flip = params.get("flip", {})
    flip_items, excluded = select(qa_items, flip.get("categories", [LATERALITY]),
                                  flip.get("exclude_lobes", True))
    logger.info("probes: %d mirrored laterality items, %d excluded", len(flip_items), len(excluded))
    return flip_items, excluded


def score_flip(flip_items: list[dict], original_predictions: list[dict],
               **mirrored_by_model: list[dict]) -> tuple[list, list]:
    """Per item outcome (follows, same_side, wrong_flip, no_side) and the shares per model."""
    from ct_spatial_bench.probes.laterality import flip_outcomes, flip_summary

    mirrored = [p for rows in mirrored_by_model.values() for p in rows]
    outcomes = flip_outcomes(flip_items, original_predictions, mirrored)
    return outcomes, flip_summary(outcomes, models=sorted(mirrored_by_model))


def measure_blind_gap(qa_items: list[dict], predictions: list[dict], decision_rows: list[dict],
                      params: dict[str, Any]) -> Any:
    """Accuracy with the image minus the blind twin's, overall and per category."""
    import pandas as pd

    from ct_spatial_bench.metrics.subsets import blind_pairs
    from ct_spatial_bench.probes.blind_gap import blind_gap
    from ct_spatial_bench.records import decisions_by_item

    pairs = blind_pairs(predictions, params.get("blind_pairs") or {})
    decisions = decisions_by_item(decision_rows, "jury_decisions")
    return pd.DataFrame(blind_gap(qa_items, decisions, predictions, pairs))


def tabulate_does_it_look(flip_summary_rows: list[dict], gap: Any) -> Any:
    """model, n_items, flip_consistency, same_side_rate, blind_gap (and the details)."""
    from ct_spatial_bench.probes.report import does_it_look

    return does_it_look(flip_summary_rows, gap.to_dict("records"))


def score_variants(
    qa_items: list[dict], predictions: list[dict], decision_rows: list[dict],
    judging_params: dict[str, Any], metrics_params: dict[str, Any],
    api_keys: dict[str, str | None] | None, **variant_predictions_by_model: list[dict],
) -> Any:
    """Judge the probe variants' predictions (perturbations, representations) with the
    benchmark's judges and jury rule; accuracy per (model, variant, category) and its drop from
    the benchmark run."""
    import pandas as pd

    from ct_spatial_bench.judges.engine import judge_as_configured
    from ct_spatial_bench.probes.variants import variant_accuracy, variant_decisions
    from ct_spatial_bench.records import decisions_by_item

    variants = [p for rows in variant_predictions_by_model.values() for p in rows]
    if not variants:
        return pd.DataFrame()
    verdicts = judge_as_configured(qa_items, variants, judging_params, api_keys)
    decisions = variant_decisions(verdicts, judges=metrics_params.get("jury_judges"),
                                  rule=metrics_params.get("jury_rule", "majority"))
    describe = {p["variant"]: {k: v for k, v in p["probe"].items() if k != "seed"}
                for p in variants}
    base = decisions_by_item(decision_rows, "jury_decisions")
    return pd.DataFrame(variant_accuracy(qa_items, variants, decisions, predictions, base,
                                         describe))


def write_report_section(does_it_look: Any, blind_gap: Any, robustness: Any,
                         representations: Any, params: dict[str, Any]) -> list[dict]:
    """``report_section_probes``: "does it look?" beside the leaderboard, the blind gap per
    category, robustness and input representations where they ran (each table None until
    its probe has run)."""
    from ct_spatial_bench.probes.laterality import rule_text
    from ct_spatial_bench.probes.report import probe_sections
    from ct_spatial_bench.reporting.sections import AFTER_LEADERBOARD, section_rows
    from ct_spatial_bench.spatial.categories import LATERALITY

    flip = params.get("flip") or {}
    rule = rule_text(flip.get("categories") or [LATERALITY], flip.get("exclude_lobes", True))
    sections = probe_sections(does_it_look, blind_gap, rule, robustness, representations)
    first = next(iter(sections))
    return (section_rows("probes.does_it_look", {first: sections.pop(first)}, AFTER_LEADERBOARD)
            + section_rows("probes.details", sections))
