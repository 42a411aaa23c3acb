"""The quantization ablation: one model, the same questions at each precision, scored against its
own full-precision run.

Each precision is a separate load of the model (``models.quantization``) and a separate run with
a checkpoint of its own; the previous one is released first so its memory does not count in the
next one's peak. Predictions keep the real ``model`` and carry ``variant`` = the precision (a
field, never a suffix in the name: ``probes.variants``); their verdicts carry it too, and the jury
decides precision by precision. The table has one row per
precision: accuracy with its interval, the exact McNemar test against full precision on the
items both were decided on, latency per item, parameter and peak memory, and the backend.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from statistics import mean, median
from typing import Any

from ct_spatial_bench.models.quantization import FULL, QuantizationUnavailable, requested_precision
from ct_spatial_bench.records import (
    CORRECT,
    ERROR,
    INCORRECT,
    OK,
    Prediction,
    QAItem,
    entry_label,
    entry_of,
    qa_item,
    with_variant,
)

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
    make_adapter: Callable[[], Any], items: list[QAItem],
    load_image: Callable[[str], Any] | None, config: Mapping[str, Any],
    precisions: Sequence[str], checkpoint_dir: str | Path, options: Mapping[str, Any],
) -> list[Prediction]:
    """Every item answered once per precision, each prediction labelled with it.

    ``make_adapter()`` returns a fresh, unloaded adapter (the weight-loading kind); a precision
    the model cannot run at stops the ablation when that model loads, saying why.
    """
    from ct_spatial_bench.inference.loop import run_model
    from ct_spatial_bench.models.common import NeuralAdapter

    predictions: list[Prediction] = []
    for precision in precisions:
        adapter = make_adapter()
        if not isinstance(adapter, NeuralAdapter):
            raise QuantizationUnavailable(f"{adapter.name} loads no weights: it has no precision "
                                          "to change (run the ablation on a model under test)")
        run_config = precision_config(config, precision, options)
        adapter.load(run_config)
        checkpoint = Path(checkpoint_dir) / f"{adapter.name}__{precision}.jsonl"
        rows = run_model(adapter, items, load_image, run_config, checkpoint=checkpoint)
        predictions += [with_variant(p, precision, {"precision": precision}) for p in rows]
        logger.info("quantization ablation: %s at %s, %d predictions, %d errors", adapter.name,
                    precision, len(rows), sum(p.status == ERROR for p in rows))
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
    qa_items: Iterable[Mapping[str, Any]], predictions: Iterable[Mapping[str, Any]],
    decisions: Mapping[str | None, Mapping[tuple[str, str], str]], n_boot: int = 1000,
) -> list[dict[str, Any]]:
    """One row per (model, precision): accuracy and interval, McNemar against full precision,
    latency per item, memory, backend. ``decisions``: ``{precision: {(entry, qa_id): decision}}``
    (``probes.variants.variant_decisions`` of the verdicts). ``qa_items`` and ``predictions``:
    records, or rows (a test's, a script's) that become records here."""
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model
    from ct_spatial_bench.probes.variants import probe_predictions

    predictions = probe_predictions(predictions)  # older files' <model>@<precision> names split
    asked = {p.qa_id for p in predictions}  # the items put to the model (max_items may cap them)
    qa_items = [qa for qa in map(qa_item, qa_items) if qa.qa_id in asked]
    runs = {run: [p for p in predictions if (p.model, p.variant) == run]
            for run in dict.fromkeys((p.model, p.variant) for p in predictions)}
    rows = []
    for (model, precision), mine in runs.items():
        decided = {key: d for key, d in (decisions.get(precision) or {}).items()
                   if key[0] == entry_label(model, precision)}  # keys are entries
        (accuracy,) = accuracy_by_model(qa_items, mine, decided, n_boot=n_boot)
        figures = _efficiency(mine)
        row = {"model": model, "precision": precision, **figures["precision"],
               **{k: accuracy[k] for k in ("n_items", "n_judged", "n_correct", "n_failed",
                                           "n_errors", "accuracy", "accuracy_ci_low",
                                           "accuracy_ci_high")}}
        if precision != FULL:
            full = runs.get((model, FULL), [])
            row.update(_versus_full(_right(full, decisions.get(FULL) or {}),
                                    _right(mine, decided)))
        else:
            row.update(n_paired=None, full_only=None, quantized_only=None, p_vs_full=None)
        row.update(figures["cost"])
        rows.append(row)
    return rows


def _right(predictions: list[Prediction],
           decisions: Mapping[tuple[str, str], str]) -> dict[str, bool]:
    """``{qa_id: correct?}`` over one run's decided items (correct or incorrect, the model's
    errors left out as in the accuracy)."""
    from ct_spatial_bench.metrics.accuracy import effective_decisions

    entries = {entry_of(p) for p in predictions}
    mine = {key: d for key, d in decisions.items() if key[0] in entries}
    return {qa_id: d == CORRECT for (_, qa_id), d in effective_decisions(mine, predictions).items()
            if d in (CORRECT, INCORRECT)}


def _versus_full(full: Mapping[str, bool], quantized: Mapping[str, bool]) -> dict[str, Any]:
    """Discordant items and the exact McNemar p against full precision, on the items both
    decided (none when a side decided nothing)."""
    from ct_spatial_bench.metrics.intervals import mcnemar_exact

    if not full or not quantized:
        return {"n_paired": 0, "full_only": None, "quantized_only": None, "p_vs_full": None}
    shared = set(full) & set(quantized)
    full_only = sum(full[q] and not quantized[q] for q in shared)
    quantized_only = sum(quantized[q] and not full[q] for q in shared)
    return {"n_paired": len(shared), "full_only": full_only, "quantized_only": quantized_only,
            "p_vs_full": mcnemar_exact(full_only, quantized_only)}


def _efficiency(predictions: list[Prediction]) -> dict[str, dict[str, Any]]:
    """What the run cost: latency per answered item, and the memory figures its predictions
    carry (the largest peak seen during the run)."""
    answered = [p for p in predictions if p.status == OK]
    latencies = [float(p.latency_s) for p in answered if p.latency_s is not None]
    figures = [p.efficiency or {} for p in predictions]
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
