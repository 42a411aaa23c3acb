"""The model under test answering transformed volumes (mirrored, perturbed, rendered another way),
each variant preprocessed with the model's own spec and checkpointed on its own.

Domain code shared by the probes and the mask track's mirrored twins: both stages call it, neither
imports the other's nodes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
    return answer_transformed(flip_items, answer_prior, raw_volumes, inference_params,
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
    from ct_spatial_bench.sharding import asked_items

    config = params.get("perturbations", {})
    items = asked_items(qa_items, config.get("max_items"))
    seed = int(config.get("seed", 0))
    predictions = []
    for kind, strengths in (config.get("variants") or {}).items():
        for strength in strengths:
            settings = {"perturbation": kind, "strength": strength, "seed": seed}
            predictions += answer_transformed(
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
    from ct_spatial_bench.sharding import asked_items

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
        rows = answer_prepared(items, answer_prior, raw_volumes, inference_params, params, label,
                                settings, render)
        predictions += [{**row, "representation": settings} for row in rows]
    return predictions


def answer_transformed(items, answer_prior, raw_volumes, inference_params, preprocessing_params,
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

    return answer_prepared(items, answer_prior, raw_volumes, inference_params, params, variant,
                            settings, prepare)


def answer_prepared(items, answer_prior, raw_volumes, inference_params, params, variant,
                     settings, prepare) -> list[dict[str, Any]]:
    """Run the model as ``inference_<model>`` does, each volume turned into its input by
    ``prepare`` (None: a model without an image), with a checkpoint of its own per variant
    (settings hashed into the name), so a rerun resumes."""
    from ct_spatial_bench.inference.engine import run_inference
    from ct_spatial_bench.inference.settings import InferenceSettings
    from ct_spatial_bench.records import with_variant

    inference = InferenceSettings.from_params(inference_params)
    model_inputs = None
    if prepare is not None:
        model_inputs = {key: (lambda key=key: prepare(raw_volumes[key]())) for key in raw_volumes}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
    checkpoint = Path(params.get("checkpoint_dir", "data/07_model_output/probes/checkpoints"))
    checkpoint /= f"{inference.model}__{variant.replace(':', '_')}-{digest[:8]}.jsonl"
    predictions = run_inference(inference, items, model_inputs, answer_prior,
                                checkpoint=str(checkpoint))
    return [with_variant(p, variant, settings) for p in predictions]
