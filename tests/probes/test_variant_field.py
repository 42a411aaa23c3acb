"""A probe's variant is a field, never a suffix in the model's name: predictions, verdicts and
tables keep the model's own name and carry ``variant``; files written when the variant was a
``<model>@<variant>`` name still load and give the same table.

Expected figures are worked out by hand from the rule judge's exact-match and side-conflict rules
(left vs left: correct; right vs left: incorrect).
"""

import pytest

from ct_spatial_bench.records import Verdict

QA = [{"qa_id": f"q{i}", "case_id": f"v{i}", "image_path": f"v{i}", "question": "Which side?",
       "answer": "left", "categories": ["Laterality"], "source": "t", "meta": {}}
      for i in range(3)]
JUDGING = {"judges": ["rule"], "cache_path": None}


def _pred(qa_id, variant, answer, **extra):
    return {"qa_id": qa_id, "model": "m", "variant": variant, "status": "ok",
            "prediction": answer, "latency_s": 0.5, **extra}


def _no_suffix(rows):
    """Every row names the model by its own name and carries its variant as a field."""
    assert {r["model"] for r in rows} == {"m"}
    assert all(r["variant"] for r in rows)


def test_verdicts_keep_the_models_name_and_carry_the_variant():
    from ct_spatial_bench.judges.engine import judge_predictions
    from ct_spatial_bench.judges.registry import build_judges

    preds = [_pred("q0", "noise:10", "left"), _pred("q0", "noise:50", "right")]
    verdicts = judge_predictions(build_judges(["rule"]), QA, preds, progress=False)
    _no_suffix(verdicts)
    assert [(v["variant"], v["verdict"]) for v in verdicts] == [
        ("noise:10", "correct"), ("noise:50", "incorrect")]


def test_a_verdict_without_a_variant_is_written_as_before():
    row = {"qa_id": "q0", "model": "m", "judge": "rule", "judge_model": "rule-v1",
           "verdict": "correct", "reason": "", "raw": "", "prompt_version": "rule-v1",
           "tokens": {}, "latency_s": 0.0}
    assert Verdict.from_dict(row).to_dict() == row  # no "variant": null added to old rows
    with_variant = {**row, "variant": "int4"}
    assert Verdict.from_dict(with_variant).variant == "int4"
    assert Verdict.from_dict(with_variant).to_dict() == with_variant


def test_variants_of_one_model_are_scored_apart(monkeypatch):
    """Two variants of model m answer the same items: each gets its own accuracy, and what is
    judged never has the variant in the model's name."""
    from ct_spatial_bench.judges import engine
    from ct_spatial_bench.pipelines.probes.nodes import score_variants

    seen = []
    judge = engine.judge_as_configured

    def spying(qa_items, predictions, *args, **kwargs):
        verdicts = judge(qa_items, predictions, *args, **kwargs)
        seen.append((list(predictions), verdicts))
        return verdicts

    monkeypatch.setattr(engine, "judge_as_configured", spying)
    base = [{"qa_id": q["qa_id"], "model": "m", "status": "ok", "prediction": "left"} for q in QA]
    decisions = [{"model": "m", "qa_id": q["qa_id"], "rule": "majority", "decision": "correct"}
                 for q in QA]
    variants = ([_pred(f"q{i}", "blur:1", "left", probe={"perturbation": "blur", "strength": 1})
                 for i in range(3)]
                + [_pred(f"q{i}", "blur:4", "left" if i == 0 else "right",
                         probe={"perturbation": "blur", "strength": 4}) for i in range(3)])
    table = score_variants(QA, base, decisions, JUDGING, {}, None, m=variants)
    (predictions, verdicts), = seen
    _no_suffix(predictions)
    _no_suffix(verdicts)
    overall = table[table["category"] == "All"].set_index("variant")
    assert set(table["model"]) == {"m"}
    assert overall.loc["blur:1", "accuracy"] == 1.0
    assert overall.loc["blur:4", "accuracy"] == pytest.approx(1 / 3)  # q0 of q0-q2 right
    assert overall.loc["blur:4", "accuracy_drop"] == pytest.approx(2 / 3)
    assert list(overall["strength"]) == [1, 4]


def _quantization_preds():
    return ([_pred(f"q{i}", "full", "left") for i in range(3)]
            + [_pred("q0", "int4", "left"), _pred("q1", "int4", "right"),
               _pred("q2", "int4", "right")])


def test_the_quantization_verdicts_carry_the_precision_and_tabulate():
    from ct_spatial_bench.pipelines.probes_quantization.nodes import (
        judge_precisions,
        tabulate_precisions,
    )

    preds = _quantization_preds()
    verdicts = judge_precisions(QA, preds, JUDGING)
    _no_suffix(verdicts)
    (table,) = tabulate_precisions(QA, preds, verdicts, {}, {"n_boot": 50}).values()
    assert list(table["model"]) == ["m", "m"] and list(table["precision"]) == ["full", "int4"]
    assert list(table["accuracy"]) == [1.0, pytest.approx(1 / 3)]
    # int4 wrong where full was right on q1, q2; exact two-sided p of 0 of 2: 2 * 0.5**2
    assert (table.loc[1, "full_only"], table.loc[1, "quantized_only"]) == (2, 0)
    assert table.loc[1, "p_vs_full"] == pytest.approx(0.5)


def test_verdicts_written_with_a_suffixed_name_still_tabulate_the_same():
    """Last round's quantization verdicts named a precision ``m@int4`` (no variant field)."""
    from ct_spatial_bench.pipelines.probes_quantization.nodes import (
        judge_precisions,
        tabulate_precisions,
    )

    preds = _quantization_preds()
    verdicts = judge_precisions(QA, preds, JUDGING)
    old = [{k: v for k, v in {**row, "model": f"m@{row['variant']}"}.items() if k != "variant"}
           for row in verdicts]
    new_table = tabulate_precisions(QA, preds, verdicts, {}, {"n_boot": 50})["m"]
    old_table = tabulate_precisions(QA, preds, old, {}, {"n_boot": 50})["m"]
    assert old_table.equals(new_table)
