"""Nodes of the quantization ablation: answer at each precision, judge, tabulate."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

# A real import (light, no Kedro): Kedro reads the nodes' type hints.
from ct_spatial_bench.records import Prediction, QAItem, Verdict

logger = logging.getLogger(__name__)


def answer_at_precisions(
    qa_items: list[QAItem], inference_params: dict[str, Any], params: dict[str, Any],
    model_inputs: dict[str, Callable[[], Any]] | None = None,
) -> list[Prediction]:
    """The model's answers to the same questions at each precision in ``params.precisions``
    (full precision first: it is the reference), on the inputs its benchmark run read."""
    from ct_spatial_bench.inference.loop import image_loader
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, check_configured, create_adapter
    from ct_spatial_bench.probes.quantization import answer_at_precisions as answer
    from ct_spatial_bench.probes.quantization import precision_labels
    from ct_spatial_bench.sharding import asked_items

    name = inference_params["model"]
    config = dict(inference_params.get("config") or {})
    check_configured(name, config)
    config.setdefault("batch_size", inference_params.get("batch_size", 1))
    if (inference_params.get("runtime") or {}).get("python"):
        raise ValueError(f"probes_quantization_{name}: the ablation loads the model in this "
                         f"interpreter; clear {name}.inference.runtime.python or run it there")
    precisions = precision_labels(params.get("precisions"), name)
    items = asked_items(qa_items, params.get("max_items"))
    load_image = image_loader(MODEL_REGISTRY[name].input_spec, model_inputs,
                              inference_params.get("volume_path_prefix", ""))
    logger.info("quantization ablation of %s: %d items at %s", name, len(items),
                ", ".join(precisions))
    return answer(lambda: create_adapter(name), items, load_image, config, precisions,
                  params["checkpoint_dir"], params)


def judge_precisions(
    qa_items: list[QAItem], predictions: list[Prediction],
    judging_params: dict[str, Any], api_keys: dict[str, str | None] | None = None,
) -> list[Verdict]:
    """One verdict per (prediction at a precision, judge), by the benchmark's judges, cache and
    fallback; each verdict carries its precision as ``variant``."""
    from ct_spatial_bench.judges.engine import judge_as_configured

    return judge_as_configured(qa_items, predictions, judging_params, api_keys)


def tabulate_precisions(
    qa_items: list[QAItem], predictions: list[Prediction],
    verdicts: list[Verdict], metrics_params: dict[str, Any], params: dict[str, Any],
) -> dict[str, Any]:
    """The model's row per precision, as its partition of ``quantization_tables`` (keyed by the
    model its table rows name: those rows are a table's, not records)."""
    import pandas as pd

    from ct_spatial_bench.probes.quantization import ablation_table
    from ct_spatial_bench.probes.variants import variant_decisions

    decisions = variant_decisions(verdicts, judges=metrics_params.get("jury_judges"),
                                  rule=metrics_params.get("jury_rule", "majority"))
    rows = ablation_table(qa_items, predictions, decisions, n_boot=params.get("n_boot", 1000))
    return {rows[0]["model"]: pd.DataFrame(rows)} if rows else {}


def write_report_section(quantization_tables: Any) -> list[dict]:
    """``report_section_quantization``: every model's ablation rows, shown in the report's
    efficiency section."""
    from ct_spatial_bench.reporting.efficiency import ablation_html
    from ct_spatial_bench.reporting.sections import section_rows

    html = ablation_html(quantization_tables)
    return section_rows("quantization.ablation", {"Quantization ablation": html}) if html else []
