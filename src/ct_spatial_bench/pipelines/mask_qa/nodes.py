"""Nodes of the mask-derived track: label maps -> questions -> model answers -> exact scores."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ct_spatial_bench.records import Prediction, QAItem

logger = logging.getLogger(__name__)


def build_mask_questions(qa_items: list[QAItem], label_maps: dict[str, Callable[[], Any]],
                         params: dict[str, Any]) -> tuple[list[QAItem], list[dict]]:
    """Spatial questions computed from each benchmark volume's label maps, and what was skipped."""
    from ct_spatial_bench.mask_qa.tables import load_label_table
    from ct_spatial_bench.mask_qa.track import maps_by_volume, skip_counts, split_questions
    from ct_spatial_bench.records import volume_key

    table = load_label_table(str(params["table"]))
    volumes = {}
    for item in qa_items:
        key = volume_key(item.image_path, params.get("volume_path_prefix", ""))
        volumes.setdefault(item.case_id, {"case_id": item.case_id,
                                          "image_path": item.image_path, "key": key})
    items, skips = split_questions(list(volumes.values()), maps_by_volume(label_maps or {}),
                                   table, params.get("margins") or {}, int(params.get("seed", 0)),
                                   bool(params.get("balance", True)))
    asked = [i for i in items if not i.meta["mirrored"]]
    logger.info("mask_qa (%s table): %d questions on %d volumes (+%d mirrored twins); "
                "per category %s; skipped %s", table.name, len(asked),
                len({i.case_id for i in asked}), len(items) - len(asked),
                dict(Counter(c for i in asked for c in i.categories)), skip_counts(skips))
    no_maps = [s["reference"] for s in skips if s["reason"] == "no label map"]
    if no_maps:
        logger.warning("mask_qa: %d volumes have no label map and are skipped, e.g. %s",
                       len(no_maps), no_maps[:5])
    return items, skips


def build_mask_answer_prior(split_params: dict[str, Any], prior_params: dict[str, Any],
                            params: dict[str, Any]) -> list[QAItem]:
    """Mask questions about phantoms the split never shows: the blind baseline's prior."""
    from ct_spatial_bench.mask_qa.tables import load_label_table
    from ct_spatial_bench.mask_qa.track import phantom_prior_questions

    n_cases = int(prior_params.get("n_cases", 0))
    if n_cases == 0:
        return []
    return phantom_prior_questions(
        n_cases, int(split_params.get("n_cases", 10)), load_label_table("phantom"),
        params.get("margins") or {}, seed=int(split_params.get("seed", 0)),
        **{k: v for k, v in split_params.items() if k in ("shape", "spacing")})


def _mask_run(params: dict[str, Any]) -> dict[str, Any]:
    """The model's inference settings with a checkpoint of the mask track's own."""
    checkpoint = params.get("checkpoint")
    if checkpoint:
        path = Path(checkpoint)
        checkpoint = str(path.with_name(path.stem + "_mask_qa" + path.suffix))
    return {**params, "checkpoint": checkpoint}


def answer_mask_questions(mask_qa: list[QAItem], params: dict[str, Any],
                          model_inputs: dict[str, Callable[[], Any]] | None = None,
                          answer_prior: list[dict] | None = None) -> list[Prediction]:
    """The model's answers to the mask questions (mirrored twins apart), through the inference
    engine as ``inference_<model>`` asks them (checkpoint, blind prior, failure policy)."""
    from ct_spatial_bench.inference.engine import run_inference
    from ct_spatial_bench.inference.settings import InferenceSettings

    items = [i for i in mask_qa if not i.meta["mirrored"]]
    return run_inference(InferenceSettings.from_params(_mask_run(params)), items, model_inputs,
                         answer_prior)


def answer_mirrored_mask_questions(mask_qa: list[QAItem], raw_volumes: dict[str, Callable],
                                   params: dict[str, Any], preprocessing_params: dict[str, Any],
                                   probe_params: dict[str, Any],
                                   answer_prior: list[dict] | None = None) -> list[Prediction]:
    """The model's answers to the mirrored twins: each volume mirrored left-right in patient
    space before the model's own preprocessing, as the flip probe does it."""
    from ct_spatial_bench.probes.answering import answer_mirrored

    twins = [i for i in mask_qa if i.meta["mirrored"]]
    if not twins:
        return []
    return answer_mirrored(twins, raw_volumes, params, preprocessing_params, probe_params,
                           answer_prior=answer_prior)


def score_mask_answers(mask_qa: list[QAItem], **predictions: list[Prediction]) -> list[dict]:
    """Every model's answers scored exactly, per item; ``reference`` scores the answers
    themselves (must be 1.0: the reading of answers is checked on every run)."""
    from ct_spatial_bench.mask_qa.scoring import score_predictions

    reference_answers = "reference answers"
    reference = [Prediction(qa_id=i.qa_id, model=reference_answers, prediction=i.answer)
                 for i in mask_qa]
    rows = score_predictions(mask_qa, reference, reference_answers)
    by_model: dict[str, list[Prediction]] = {}
    for name, rows_of_dataset in predictions.items():
        model = name.split("__")[0]
        by_model.setdefault(model, []).extend(rows_of_dataset)
    for model, preds in sorted(by_model.items()):
        rows += score_predictions(mask_qa, preds, model)
    bad = [r for r in rows if r["model"] == reference_answers and r["score"] != 1.0]
    if bad:
        raise RuntimeError(f"mask_qa: {len(bad)} reference answers do not score 1.0, "
                             f"e.g. {bad[0]['qa_id']}")
    return rows


def summarise_mask_track(scores: list[dict], params: dict[str, Any]) -> list[dict]:
    """Per model: accuracy per family and category (volume-clustered intervals), paired
    "both right", flip-consistency of the mirrored twins."""
    from ct_spatial_bench.mask_qa.summary import summarise

    rows = summarise(scores, int(params.get("n_boot", 1000)), int(params.get("seed", 0)))
    for row in rows:
        if row["kind"] in ("overall", "paired"):
            logger.info("mask_qa %s %s %s: %.3f [%.3f, %.3f] (n=%d)", row["model"], row["kind"],
                        row["group"], row["accuracy"], row["ci_low"], row["ci_high"], row["n"])
    return rows


def write_report_section(summary_rows: list[dict], mask_qa: list[QAItem], scores: list[dict],
                         raw_volumes: dict[str, Callable[[], Any]],
                         label_maps: dict[str, Callable[[], Any]], params: dict[str, Any]
                         ) -> list[dict]:
    """``report_section_mask_qa``: the track's tables beside the leaderboard, and examples, each
    with the slice through the structure asked about and its outline from the label maps."""
    from ct_spatial_bench.reporting.mask_track import (
        REFERENCE_RGB,
        SUBJECT_RGB,
        mask_examples_html,
        mask_track_sections,
        outline_png,
    )
    from ct_spatial_bench.reporting.sections import AFTER_LEADERBOARD, section_rows

    examples = params.get("report_examples") or {}
    picture = _example_picture(raw_volumes, label_maps, params, SUBJECT_RGB, REFERENCE_RGB,
                               outline_png, int(examples.get("image_px", 120)))
    return (section_rows("mask_qa.track", mask_track_sections(summary_rows), AFTER_LEADERBOARD)
            + section_rows("mask_qa.examples", mask_examples_html(
                mask_qa, scores, picture, int(examples.get("limit", 6)))))


def _example_picture(raw_volumes, label_maps, params, subject_rgb, reference_rgb, draw, size):
    """item -> the PNG of its slice with the outlines (None where a volume or map is missing);
    each volume's maps measured once."""
    import nibabel as nib
    import numpy as np

    from ct_spatial_bench.mask_qa.measure import LabelMapError, measure_volume
    from ct_spatial_bench.mask_qa.tables import load_label_table
    from ct_spatial_bench.mask_qa.track import folder_of, maps_by_volume
    from ct_spatial_bench.records import volume_key
    from ct_spatial_bench.reporting.case_viewer import volume_finder

    table = load_label_table(str(params["table"]))
    maps = maps_by_volume(label_maps or {})
    find = volume_finder(raw_volumes or {})
    measured: dict[str, Any] = {}

    def picture(item: QAItem) -> str | None:
        key = volume_key(item.image_path, params.get("volume_path_prefix", ""))
        own, found = maps.get(folder_of(table, key)), find(item.image_path)
        if not own or found is None:
            return None
        if key not in measured:
            try:
                measured[key] = measure_volume(lambda name: own[name](), set(own), table, key)
            except LabelMapError:
                measured[key] = None
        vol = measured[key]
        meta = item.meta
        if vol is None or meta["subject"] not in vol.present:
            return None
        masks = [(nib.Nifti1Image(vol.present[meta["subject"]].mask.astype(np.uint8),
                                  vol.affine), subject_rgb)]
        if meta.get("reference") in vol.present:
            masks.append((nib.Nifti1Image(vol.present[meta["reference"]].mask.astype(np.uint8),
                                          vol.affine), reference_rgb))
        return draw(raw_volumes[found](), masks, size)
    return picture
