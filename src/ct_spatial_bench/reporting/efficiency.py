"""The report's efficiency section: what each model's benchmark run cost, and the quantization
ablation (accuracy, paired test, latency and memory per precision) where it has run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from statistics import mean, median
from typing import Any

import pandas as pd

from ct_spatial_bench.records import entry_of

ABLATION_HINT = ("<p>Quantization ablation not run: <code>kedro run --pipelines "
                 "probes_quantization_&lt;model&gt;</code> (a model that loads weights).</p>")
ABLATION_COLUMNS = ("model", "precision", "backend", "compute_dtype", "n_judged", "n_errors",
                    "accuracy [95% CI]", "full_only", "quantized_only", "p_vs_full",
                    "latency_s_mean", "parameter_memory_mib", "peak_memory_mib",
                    "peak_memory_source")


def run_costs(predictions: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per entry (``records.entry_of``: a blind control apart): precision, backend,
    parameters, parameter and peak memory (MiB), and latency per answered item (mean, median)
    from its predictions' efficiency fields; where any
    prediction records ``hit_token_limit``, ``n_hit_token_limit`` (answers that ran out of new
    tokens, blank for a model that cannot tell)."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for pred in predictions:
        by_model.setdefault(entry_of(pred), []).append(pred)
    rows = []
    for model, preds in by_model.items():
        latencies = [float(p["latency_s"]) for p in preds
                     if p.get("status") == "ok" and p.get("latency_s") is not None]
        figures = [p.get("efficiency") or {} for p in preds]
        last = figures[-1]
        peaks = [f["peak_memory_mib"] for f in figures if f.get("peak_memory_mib") is not None]
        rows.append({
            "model": model, "n": len(preds), "device": last.get("device"),
            "precision": last.get("precision"), "backend": last.get("quantization_backend"),
            "parameters": last.get("parameters"),
            "parameter_memory_mib": last.get("parameter_memory_mib"),
            "peak_memory_mib": max(peaks) if peaks else None,
            "latency_s_mean": round(mean(latencies), 4) if latencies else None,
            "latency_s_median": round(median(latencies), 4) if latencies else None,
            **_token_limit_count(preds),
        })
    frame = pd.DataFrame(rows)
    if "n_hit_token_limit" in frame.columns:  # counts as integers; a model that cannot tell: blank
        frame["n_hit_token_limit"] = pd.Series(
            [None if pd.isna(v) else int(v) for v in frame["n_hit_token_limit"]],
            index=frame.index, dtype=object)
    return frame


def _token_limit_count(preds: list[dict[str, Any]]) -> dict[str, int]:
    """How many answers stopped at max_new_tokens (possibly cut), among the predictions that
    record it (``hit_token_limit``); no column for a model none of whose predictions does."""
    known = [p["hit_token_limit"] for p in preds if p.get("hit_token_limit") is not None]
    return {"n_hit_token_limit": sum(map(bool, known))} if known else {}


def ablation_view(tables: Mapping[str, Callable[[], pd.DataFrame]] | None) -> pd.DataFrame | None:
    """Every model's ablation rows (``quantization_tables`` partitions), accuracy and its interval
    in one cell; None where none has run."""
    if not tables:
        return None
    frame = pd.concat([load() for _, load in sorted(tables.items())], ignore_index=True)
    frame["accuracy [95% CI]"] = [
        "" if pd.isna(r.accuracy) else
        f"{r.accuracy:.3f} [{r.accuracy_ci_low:.3f}, {r.accuracy_ci_high:.3f}]"
        for r in frame.itertuples()]
    return frame[[c for c in ABLATION_COLUMNS if c in frame.columns]]


def ablation_html(tables: Mapping[str, Callable[[], Any]] | None) -> str | None:
    """The quantization ablation's part of the efficiency section; None where none has run."""
    from ct_spatial_bench.reporting.summary import html_table

    ablation = ablation_view(tables)
    if ablation is None:
        return None
    return ("<h3>Quantization ablation</h3><p>The same questions at each precision. "
            "full_only / quantized_only: items only the full-precision or only the "
            "quantized run got right; p_vs_full: exact McNemar on the items both were "
            "decided on.</p>" + html_table(ablation))


def efficiency_html(predictions: list[dict[str, Any]], ablation: str | None) -> str:
    """Run costs, then the quantization ablation (``ablation_html``) or how to run it."""
    from ct_spatial_bench.reporting.summary import html_table

    costs = run_costs(predictions)
    return ("<p>Latency per answered item (seconds; a batch's time shared by its items) and "
            "memory: parameter memory is what the weights occupy as stored (a quantized weight's "
            "packed data and scales); peak memory is the CUDA allocator's peak, or on CPU the "
            "process's peak resident memory, since the model started loading.</p>"
            + (html_table(costs) if not costs.empty else "<p>No predictions.</p>")
            + (ablation if ablation is not None else ABLATION_HINT))


def efficiency_sections(predictions: list[dict[str, Any]],
                        quantization_tables: Mapping[str, Callable[[], Any]] | None
                        ) -> dict[str, str]:
    """The "Efficiency" section: run costs, then the quantization ablation (or how to run it)."""
    return {"Efficiency": efficiency_html(predictions, ablation_html(quantization_tables))}
