"""``probes``: does a model read the CT?

``create_flip_pipeline``: the blind gap and the left-right flip of the laterality items for
``models``, and the "does it look?" table (cheap: one rerun of the laterality items' volumes).
``create_pipeline``: that, plus the perturbation robustness of ``perturbed_models`` (one rerun of
every volume per perturbation and strength). ``create_representation_pipeline``: a slice-reading
model under each configured input representation.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from kedro.pipeline import Pipeline, node

from .nodes import (
    answer_mirrored,
    answer_perturbed,
    answer_representations,
    measure_blind_gap,
    score_flip,
    score_variants,
    select_flip_items,
    tabulate_does_it_look,
    write_report_section,
)


def _quiet(build):
    """``<model>.predictions_*`` are namespaced-style names on purpose; Kedro warns about dots."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        return build()


def _model_inputs(model: str) -> dict[str, str]:
    from ct_spatial_bench.models.registry import MODEL_REGISTRY

    inputs = {"raw_volumes": "raw_volumes", "inference_params": f"params:{model}.inference",
              "preprocessing_params": "params:preprocessing", "params": "params:probes"}
    if MODEL_REGISTRY[model].answer_prior:
        inputs["answer_prior"] = "blind_answer_prior"
    return inputs


# Every probes pipeline redraws the probes' report section from whichever tables exist (the
# same node in each, so a combination of them holds it once).
SECTION_NODE = node(
    write_report_section, ["probe_does_it_look", "probe_blind_gap", "probe_robustness",
                           "probe_representations", "params:probes"],
    "report_section_probes", name="probes.write_report_section")


def create_flip_pipeline(models: Sequence[str] = ("blind", "geometry"), **kwargs) -> Pipeline:
    def build() -> Pipeline:
        nodes = [
            node(select_flip_items, ["benchmark_qa", "params:probes"],
                 ["probe_flip_items", "probe_flip_exclusions"], name="probes.select_flip_items"),
            *[node(answer_mirrored,
                   {"flip_items": "probe_flip_items", **_model_inputs(m)},
                   f"{m}.predictions_mirrored", name=f"probes.{m}.answer_mirrored")
              for m in models],
            node(score_flip, {"flip_items": "probe_flip_items",
                              "original_predictions": "pooled_predictions",
                              **{m: f"{m}.predictions_mirrored" for m in models}},
                 ["probe_flip_outcomes", "probe_flip_summary"], name="probes.score_flip"),
            node(measure_blind_gap, ["benchmark_qa", "pooled_predictions", "jury_decisions",
                                     "params:probes"], "probe_blind_gap",
                 name="probes.measure_blind_gap"),
            node(tabulate_does_it_look, ["probe_flip_summary", "probe_blind_gap"],
                 "probe_does_it_look", name="probes.tabulate_does_it_look"),
            SECTION_NODE,
        ]
        return Pipeline(nodes)
    return _quiet(build)


def _variant_pipeline(models: Sequence[str], answer, kind: str, output: str) -> Pipeline:
    """Each model answers under every variant (``<model>.predictions_<kind>``); then one node
    judges and scores them all against the benchmark run (``output``)."""
    def build() -> Pipeline:
        return Pipeline([
            *[node(answer, {"qa_items": "benchmark_qa", **_model_inputs(m)},
                   f"{m}.predictions_{kind}", name=f"probes.{m}.{answer.__name__}")
              for m in models],
            node(score_variants,
                 {"qa_items": "benchmark_qa", "predictions": "pooled_predictions",
                  "decision_rows": "jury_decisions", "judging_params": "params:judging",
                  "metrics_params": "params:metrics", "api_keys": "llm_api_keys",
                  **{m: f"{m}.predictions_{kind}" for m in models}},
                 output, name=f"probes.score_{kind}"),
            SECTION_NODE,
        ])
    return _quiet(build)


def create_robustness_pipeline(models: Sequence[str] = ("geometry",), **kwargs) -> Pipeline:
    """Perturbation robustness of ``models`` (``probes.perturbations``)."""
    return _variant_pipeline(models, answer_perturbed, "perturbed", "probe_robustness")


def create_representation_pipeline(models: Sequence[str], **kwargs) -> Pipeline:
    """Input-representation ablations of slice-reading ``models`` (``probes.representations``)."""
    return _variant_pipeline(models, answer_representations, "representations",
                             "probe_representations")


def create_pipeline(models: Sequence[str] = ("blind", "geometry"),
                    perturbed_models: Sequence[str] = ("geometry",), **kwargs) -> Pipeline:
    return create_flip_pipeline(models) + create_robustness_pipeline(perturbed_models)
