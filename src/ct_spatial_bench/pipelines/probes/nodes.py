"""Nodes of the probes: does a model read the CT? Blind gap, left-right flip, perturbations."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def answer_mirrored(
    flip_items: list[dict], raw_volumes: dict[str, Callable[[], Any]],
    inference_params: dict[str, Any], preprocessing_params: dict[str, Any],
    params: dict[str, Any], answer_prior: list[dict] | None = None,
) -> list[dict[str, Any]]:
    """The model's answers to the mirrored items, each volume mirrored left-right in patient
    space before the model's own preprocessing."""
    from functools import partial

    from ct_spatial_bench.imaging.mirror import mirror_left_right

    plane_x = params.get("flip", {}).get("plane_x")
    settings = {"probe": "mirror_lr", "plane_x": plane_x}
    return _answer_transformed(flip_items, answer_prior, raw_volumes, inference_params,
                               preprocessing_params, params, "mirror_lr", settings,
                               partial(mirror_left_right, plane_x=plane_x))


def answer_perturbed(
    qa_items: list[dict], raw_volumes: dict[str, Callable[[], Any]],
    inference_params: dict[str, Any], preprocessing_params: dict[str, Any],
    params: dict[str, Any], answer_prior: list[dict] | None = None,
) -> list[dict[str, Any]]:
    """The model's answers on perturbed volumes, for every (perturbation, strength) configured."""
    from functools import partial

    from ct_spatial_bench.imaging.perturb import perturb
    from ct_spatial_bench.models.sharding import asked_items

    config = params.get("perturbations", {})
    items = asked_items(qa_items, config.get("max_items"))
    seed = int(config.get("seed", 0))
    predictions = []
    for kind, strengths in (config.get("variants") or {}).items():
        for strength in strengths:
            settings = {"perturbation": kind, "strength": strength, "seed": seed}
            predictions += _answer_transformed(
                items, answer_prior, raw_volumes, inference_params, preprocessing_params, params,
                f"{kind}:{strength}", settings,
                partial(perturb, kind=kind, strength=float(strength), seed=seed))
    return predictions


def answer_representations(
    qa_items: list[dict], raw_volumes: dict[str, Callable[[], Any]],
    inference_params: dict[str, Any], preprocessing_params: dict[str, Any],
    params: dict[str, Any], answer_prior: list[dict] | None = None,
) -> list[dict[str, Any]]:
    """A slice-reading model's answers for every configured input representation (view, number
    of slices, overlay), each recorded in its predictions."""
    from functools import partial

    from ct_spatial_bench.imaging.views import DEFAULT_WINDOWS, render_view
    from ct_spatial_bench.models.registry import MODEL_REGISTRY
    from ct_spatial_bench.models.sharding import asked_items

    config = params.get("representations", {})
    items = asked_items(qa_items, config.get("max_items"))
    spec = preprocessing_params["specs"].get(MODEL_REGISTRY[inference_params["model"]].input_spec
                                             or "", {})
    windows = spec.get("rgb_windows") or DEFAULT_WINDOWS
    predictions = []
    for variant in config.get("variants") or []:
        view, slices = variant.get("view", "axial"), int(variant.get("slices", 16))
        overlay = bool(variant.get("overlay", False))
        settings = {"view": view, "slices": slices, "overlay": overlay}
        label = f"{view}-{slices}" + ("+overlay" if overlay else "")
        render = partial(render_view, view=view, slices=slices, rgb_windows=windows,
                         overlay=overlay)
        rows = _answer_prepared(items, answer_prior, raw_volumes, inference_params, params, label,
                                settings, render)
        predictions += [{**row, "representation": settings} for row in rows]
    return predictions


def _answer_transformed(items, answer_prior, raw_volumes, inference_params, preprocessing_params,
                        params, variant, settings, transform) -> list[dict[str, Any]]:
    """Run the model on ``transform``-ed volumes preprocessed with its own spec."""
    from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
    from ct_spatial_bench.models.registry import MODEL_REGISTRY

    spec_name = MODEL_REGISTRY[inference_params["model"]].input_spec
    prepare = None
    if spec_name is not None:
        spec = InputSpec.from_params(spec_name, preprocessing_params["specs"][spec_name])

        def prepare(image: Any) -> Any:
            return apply_spec(transform(image), spec)

    return _answer_prepared(items, answer_prior, raw_volumes, inference_params, params, variant,
                            settings, prepare)


def _answer_prepared(items, answer_prior, raw_volumes, inference_params, params, variant,
                     settings, prepare) -> list[dict[str, Any]]:
    """Run the model as ``inference_<model>`` does, each volume turned into its input by
    ``prepare`` (None: a model without an image), with a checkpoint of its own per variant
    (settings hashed into the name), so a rerun resumes."""
    from ct_spatial_bench.models.engine import InferenceSettings, run_inference

    inference = InferenceSettings.from_params(inference_params)
    model_inputs = None
    if prepare is not None:
        model_inputs = {key: (lambda key=key: prepare(raw_volumes[key]())) for key in raw_volumes}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
    checkpoint = Path(params.get("checkpoint_dir", "data/07_model_output/probes/checkpoints"))
    checkpoint /= f"{inference.model}__{variant.replace(':', '_')}-{digest[:8]}.jsonl"
    predictions = run_inference(inference, items, model_inputs, answer_prior,
                                checkpoint=str(checkpoint))
    return [{**p, "variant": variant, "probe": settings} for p in predictions]


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

    from ct_spatial_bench.probes.blind_gap import blind_gap, blind_pairs

    pairs = blind_pairs(predictions, params.get("blind_pairs") or {})
    decisions = {(r["model"], r["qa_id"]): r["decision"] for r in decision_rows}
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

    from ct_spatial_bench.judges.jury import jury_decisions
    from ct_spatial_bench.pipelines.judging.nodes import judge_all
    from ct_spatial_bench.probes.variants import as_variant_predictions, variant_accuracy

    variants = as_variant_predictions(
        [p for rows in variant_predictions_by_model.values() for p in rows])
    if not variants:
        return pd.DataFrame()
    verdicts = judge_all(qa_items, variants, judging_params, api_keys)
    decisions = jury_decisions(verdicts, judges=metrics_params.get("jury_judges"),
                               rule=metrics_params.get("jury_rule", "majority"))
    describe = {p["variant"]: {k: v for k, v in p["probe"].items() if k != "seed"}
                for p in variants}
    base = {(r["model"], r["qa_id"]): r["decision"] for r in decision_rows}
    return pd.DataFrame(variant_accuracy(qa_items, variants, decisions, predictions, base,
                                         describe))
