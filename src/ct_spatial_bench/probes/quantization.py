"""The quantization ablation: one model, the same questions at each precision, scored against its
own full-precision run.

Each precision is a separate load of the model (``models.quantization``) and a separate run with
a checkpoint of its own; the previous one is released first so its memory does not count in the
next one's peak. Predictions keep the real ``model`` and carry ``variant`` = the precision, so
``probes.variants`` names them ``<model>@<precision>`` for judging. The table has one row per
precision: accuracy with its interval, the exact McNemar test against full precision on the
items both were decided on, latency per item, parameter and peak memory, and the backend.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from statistics import mean, median
from typing import Any

from ct_spatial_bench.models.quantization import FULL, QuantizationUnavailable, requested_precision

logger = logging.getLogger(__name__)


def precision_labels(precisions: Sequence[Any], model: str) -> list[str]:
    """``full`` first, then the others as asked; full precision is the reference, so it is
    added when missing."""
    labels = [requested_precision(p, model) for p in precisions or [FULL]]
    return [FULL, *dict.fromkeys(p for p in labels if p != FULL)]


def precision_config(config: Mapping[str, Any], precision: str,
                     options: Mapping[str, Any]) -> dict[str, Any]:
    """The model's config at ``precision``; ``options``: ``compute_dtype``, ``backend``."""
    if precision == FULL:
        return {**config, "quantization": None}
    return {**config, "quantization": {"precision": precision,
                                       "compute_dtype": options.get("compute_dtype"),
                                       "backend": options.get("backend") or "auto"}}


def answer_at_precisions(
    make_adapter: Callable[[], Any], items: list[dict[str, Any]],
    load_image: Callable[[str], Any] | None, config: Mapping[str, Any],
    precisions: Sequence[str], checkpoint_dir: str | Path, options: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Every item answered once per precision, each prediction labelled with it.

    ``make_adapter()`` returns a fresh, unloaded adapter (the weight-loading kind); a precision
    the model cannot run at stops the ablation when that model loads, saying why.
    """
    from ct_spatial_bench.models.common import NeuralAdapter
    from ct_spatial_bench.inference.loop import run_model

    predictions: list[dict[str, Any]] = []
    for precision in precisions:
        adapter = make_adapter()
        if not isinstance(adapter, NeuralAdapter):
            raise QuantizationUnavailable(f"{adapter.name} loads no weights: it has no precision "
                                          "to change (run the ablation on a model under test)")
        run_config = precision_config(config, precision, options)
        adapter.load(run_config)
        checkpoint = Path(checkpoint_dir) / f"{adapter.name}__{precision}.jsonl"
        rows = run_model(adapter, items, load_image, run_config, checkpoint=checkpoint)
        predictions += [{**row, "variant": precision, "probe": {"precision": precision}}
                        for row in rows]
        logger.info("quantization ablation: %s at %s, %d predictions, %d errors", adapter.name,
                    precision, len(rows), sum(r["status"] == "error" for r in rows))
        device = adapter.device
        del adapter, rows
        _release(device)
    return predictions


def _release(device: str) -> None:
    """Free the last model before the next loads, so its memory is not in the next peak."""
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


def ablation_table(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str], n_boot: int = 1000,
) -> list[dict[str, Any]]:
    """One row per (model, precision): accuracy and interval, McNemar against full precision,
    latency per item, memory, backend. ``decisions`` are keyed ``(<model>@<precision>, qa_id)``."""
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model
    from ct_spatial_bench.metrics.intervals import paired_mcnemar
    from ct_spatial_bench.probes.variants import as_variant_predictions, variant_model

    renamed = as_variant_predictions(predictions)
    asked = {p["qa_id"] for p in renamed}  # the items put to the model (max_items may cap them)
    qa_items = [qa for qa in qa_items if qa["qa_id"] in asked]
    accuracy = {r["model"]: r for r in accuracy_by_model(qa_items, renamed, decisions,
                                                          n_boot=n_boot)}
    paired = {(r["model_a"], r["model_b"]): r for r in paired_mcnemar(decisions, renamed)}
    rows = []
    for name in dict.fromkeys(p["model"] for p in renamed):
        mine = [p for p in renamed if p["model"] == name]
        model, precision = mine[0]["base_model"], mine[0]["variant"]
        full = variant_model(model, FULL)
        figures = _efficiency(mine)
        row = {"model": model, "precision": precision, **figures["precision"],
               **{k: accuracy[name][k] for k in ("n_items", "n_judged", "n_correct", "n_failed",
                                                 "n_errors",
                                                 "accuracy", "accuracy_ci_low",
                                                 "accuracy_ci_high")}}
        row.update(_versus_full(paired, full, name))
        row.update(figures["cost"])
        rows.append(row)
    return rows


def _versus_full(paired: Mapping[tuple[str, str], dict[str, Any]], full: str,
                 name: str) -> dict[str, Any]:
    """Discordant items and the exact McNemar p against full precision (None for full itself)."""
    if name == full:
        return {"n_paired": None, "full_only": None, "quantized_only": None, "p_vs_full": None}
    pair = paired.get((full, name)) or paired.get((name, full))
    if pair is None:  # one side has no decided item
        return {"n_paired": 0, "full_only": None, "quantized_only": None, "p_vs_full": None}
    full_first = pair["model_a"] == full
    return {"n_paired": pair["n_shared"],
            "full_only": pair["a_only"] if full_first else pair["b_only"],
            "quantized_only": pair["b_only"] if full_first else pair["a_only"],
            "p_vs_full": pair["p_value"]}


def _efficiency(predictions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the run cost: latency per answered item, and the memory figures its predictions
    carry (the largest peak seen during the run)."""
    answered = [p for p in predictions if p.get("status") == "ok"]
    latencies = [float(p["latency_s"]) for p in answered if p.get("latency_s") is not None]
    figures = [p.get("efficiency") or {} for p in predictions]
    last = figures[-1] if figures else {}
    peaks = [f["peak_memory_mib"] for f in figures if f.get("peak_memory_mib") is not None]
    return {
        "precision": {"backend": last.get("quantization_backend"),
                      "compute_dtype": last.get("compute_dtype"), "device": last.get("device")},
        "cost": {"latency_s_mean": mean(latencies) if latencies else None,
                 "latency_s_median": median(latencies) if latencies else None,
                 "parameters": last.get("parameters"),
                 "parameter_memory_mib": last.get("parameter_memory_mib"),
                 "peak_memory_mib": max(peaks) if peaks else None,
                 "peak_memory_source": last.get("peak_memory_source")},
    }
