"""``mask_qa``: the mask-derived track, beside the jury track.

Label maps (the phantoms' own, or TotalSegmentator / RadGenome-ChestCT on CT-RATE) -> questions
with computed answers (``mask_qa``) -> each model's answers (``<model>.mask_predictions``, the
mirrored twins in ``<model>.mask_predictions_mirrored``) -> exact scores -> the summary the report
shows. The models are the inference stage's own settings (``params:<model>.inference``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from kedro.pipeline import Pipeline, node

from .nodes import (
    answer_mask_questions,
    answer_mirrored_mask_questions,
    build_mask_answer_prior,
    build_mask_questions,
    score_mask_answers,
    summarise_mask_track,
    write_report_section,
)


def _answer_nodes(model: str) -> list:
    from ct_spatial_bench.models.registry import MODEL_REGISTRY

    entry = MODEL_REGISTRY[model]
    inputs = {"mask_qa": "mask_qa", "params": f"params:{model}.inference"}
    if entry.input_spec is not None:
        inputs["model_inputs"] = f"model_inputs_{entry.input_spec}"
    mirrored = {"mask_qa": "mask_qa", "raw_volumes": "raw_volumes",
                "params": f"params:{model}.inference",
                "preprocessing_params": "params:preprocessing", "probe_params": "params:probes"}
    if entry.answer_prior:
        inputs["answer_prior"] = mirrored["answer_prior"] = "mask_answer_prior"
    return [
        node(answer_mask_questions, inputs, f"{model}.mask_predictions",
             name=f"{model}.answer_mask_questions"),
        node(answer_mirrored_mask_questions, mirrored, f"{model}.mask_predictions_mirrored",
             name=f"{model}.answer_mirrored_mask_questions"),
    ]


def create_pipeline(models: Sequence[str] = ("blind", "geometry"), **kwargs) -> Pipeline:
    predictions = {}
    for model in models:
        predictions[f"{model}__plain"] = f"{model}.mask_predictions"
        predictions[f"{model}__mirrored"] = f"{model}.mask_predictions_mirrored"
    with warnings.catch_warnings():  # <model>.mask_predictions: dotted names on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        return Pipeline([
            node(build_mask_questions, ["benchmark_qa", "raw_label_maps", "params:mask_qa"],
                 ["mask_qa", "mask_qa_skips"], name="build_mask_questions"),
            node(build_mask_answer_prior,
                 ["params:sanity_data", "params:mask_qa_prior", "params:mask_qa"],
                 "mask_answer_prior", name="build_mask_answer_prior"),
            *[n for model in models for n in _answer_nodes(model)],
            node(score_mask_answers, {"mask_qa": "mask_qa", **predictions}, "mask_qa_scores",
                 name="score_mask_answers"),
            node(summarise_mask_track, ["mask_qa_scores", "params:mask_qa"], "mask_qa_summary",
                 name="summarise_mask_track"),
            node(write_report_section,
                 ["mask_qa_summary", "mask_qa", "mask_qa_scores", "raw_volumes",
                  "raw_label_maps", "params:mask_qa"], "report_section_mask_qa",
                 name="write_mask_qa_report_section"),
        ])
