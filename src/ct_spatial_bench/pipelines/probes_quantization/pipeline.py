"""``probes_quantization_<model>``: the model's questions at each precision (full, int8, int4 by
default), judged like the benchmark, one table row per precision (``quantization_tables``,
a CSV per model that the report's efficiency section shows)."""

from __future__ import annotations

import warnings

from kedro.pipeline import Pipeline, node

from .nodes import (
    answer_at_precisions,
    judge_precisions,
    tabulate_precisions,
    write_report_section,
)


def create_pipeline(model: str, input_spec: str | None, **kwargs) -> Pipeline:
    inputs = {"qa_items": "benchmark_qa", "inference_params": f"params:{model}.inference",
              "params": "params:quantization_ablation"}
    if input_spec is not None:
        inputs["model_inputs"] = f"model_inputs_{input_spec}"
    predictions, verdicts = f"{model}.predictions_quantization", f"{model}.verdicts_quantization"
    with warnings.catch_warnings():  # "<model>.<dataset>" names are namespaced-style on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        return Pipeline([
            node(answer_at_precisions, inputs, predictions,
                 name=f"probes_quantization.{model}.answer_at_precisions"),
            node(judge_precisions, ["benchmark_qa", predictions, "params:judging", "llm_api_keys"],
                 verdicts, name=f"probes_quantization.{model}.judge_precisions"),
            node(tabulate_precisions, ["benchmark_qa", predictions, verdicts, "params:metrics",
                                       "params:quantization_ablation"],
                 "quantization_tables", name=f"probes_quantization.{model}.tabulate_precisions"),
            # every model's ablation so far, for the report's efficiency section
            node(write_report_section, "quantization_tables", "report_section_quantization",
                 name="probes_quantization.write_report_section"),
        ])
