"""The quantization ablation's table on hand-made predictions: figures worked out by hand."""

import pytest

from ct_spatial_bench.models.quantization import QuantizationUnavailable
from ct_spatial_bench.probes.quantization import (
    ablation_table,
    precision_config,
    precision_labels,
)
from ct_spatial_bench.reporting.efficiency import run_costs


def _qa(n):
    return [{"qa_id": f"q{i}", "answer": "left", "question": "which side", "categories": []}
            for i in range(n)]


def _pred(qa_id, precision, latency, peak, backend="quanto", status="ok"):
    return {"qa_id": qa_id, "model": "m", "variant": precision, "status": status,
            "prediction": "left", "latency_s": latency,
            "efficiency": {"precision": precision, "quantization_backend": backend,
                           "compute_dtype": "float32", "device": "cpu", "parameters": 10,
                           "parameter_memory_mib": {"full": 4.0, "int4": 1.5}[precision],
                           "peak_memory_mib": peak, "peak_memory_source": "process_peak_rss"}}


def test_labels_put_full_first_and_configs_carry_the_precision():
    assert precision_labels(["int4", None, "int8", "int4"], "m") == ["full", "int4", "int8"]
    assert precision_labels(None, "m") == ["full"]
    with pytest.raises(QuantizationUnavailable, match="'fp8' is not one of"):
        precision_labels(["fp8"], "m")
    config = {"model_path": "x", "quantization": "int8"}
    assert precision_config(config, "full", {})["quantization"] is None
    assert precision_config(config, "int4", {"compute_dtype": "bfloat16"})["quantization"] == {
        "precision": "int4", "compute_dtype": "bfloat16", "backend": "auto"}


def test_table_has_accuracy_mcnemar_latency_and_memory_per_precision():
    qa = _qa(5)
    preds = ([_pred(f"q{i}", "full", 1.0 + i, 100.0 + i, backend=None) for i in range(4)]
             + [_pred(f"q{i}", "int4", 0.5, 80.0) for i in range(3)]
             + [_pred("q3", "int4", None, 90.0, status="error")])
    # keyed by entry (the model under its variant), as variant_decisions keys them
    decisions = {"full": {("m_full", f"q{i}"): "correct" for i in range(4)},
                 "int4": {("m_int4", "q0"): "correct", ("m_int4", "q1"): "incorrect",
                          ("m_int4", "q2"): "incorrect"}}
    full, int4 = ablation_table(qa, preds, decisions, n_boot=200)
    assert (full["precision"], full["backend"], int4["backend"]) == ("full", None, "quanto")
    assert full["n_items"] == int4["n_items"] == 4  # q4 was never asked
    assert full["accuracy"] == 1.0 and full["p_vs_full"] is None
    # int4: q0 right, q1 q2 wrong, q3 an error (outside the denominator): 1 of 3
    assert int4["accuracy"] == pytest.approx(1 / 3) and int4["n_errors"] == 1
    # paired on the items both answered (q0-q2): full right and int4 wrong on q1, q2; none the
    # other way. Exact two-sided binomial p of 0 of 2 at 1/2: 2 * 0.5**2
    assert (int4["full_only"], int4["quantized_only"], int4["n_paired"]) == (2, 0, 3)
    assert int4["p_vs_full"] == pytest.approx(0.5)
    assert full["latency_s_mean"] == pytest.approx(2.5) and full["latency_s_median"] == 2.5
    assert int4["latency_s_mean"] == 0.5  # the errored item has no latency to count
    assert (full["peak_memory_mib"], int4["peak_memory_mib"]) == (103.0, 90.0)
    assert (full["parameter_memory_mib"], int4["parameter_memory_mib"]) == (4.0, 1.5)


def test_run_costs_summarise_each_models_predictions():
    preds = [_pred("q0", "int4", 1.0, 50.0), _pred("q1", "int4", 3.0, 70.0),
             {"qa_id": "q0", "model": "blind", "status": "ok", "latency_s": 0.001,
              "efficiency": None}]
    costs = run_costs(preds).set_index("model")  # one row per entry: m under variant int4
    m_int4 = costs.loc["m_int4"]
    assert m_int4["latency_s_mean"] == 2.0 and m_int4["peak_memory_mib"] == 70.0
    assert m_int4["backend"] == "quanto" and m_int4["n"] == 2
    assert costs.loc["blind", "latency_s_mean"] == 0.001
