import json
import math
import os
import random

import pytest

from ct_spatial_bench.judges.jury import jury_decisions
from ct_spatial_bench.judges.upstream import occurrence_keys
from ct_spatial_bench.metrics.accuracy import (
    accuracy_by_category,
    accuracy_by_model,
    bootstrap_ci,
    effective_decisions,
)
from ct_spatial_bench.records import RecordError, iter_jsonl, load_qa_items
from ct_spatial_bench.spatial.categories import (
    ADJACENCY,
    CATEGORIES,
    DEPTH,
    LATERALITY,
)
from support.project import UPSTREAM_REFERENCE as UPSTREAM



def qa(qa_id, categories):
    return {"qa_id": qa_id, "case_id": "c", "image_path": "", "question": f"q {qa_id}",
            "answer": "a", "categories": categories, "source": "test", "meta": {}}


def pred(qa_id, model="m", status="ok"):
    return {"qa_id": qa_id, "model": model, "prediction": "p", "status": status}


ITEMS = [qa("1", [LATERALITY]), qa("2", [LATERALITY, DEPTH]), qa("3", [DEPTH]),
         qa("4", ["adjacency"]), qa("5", [ADJACENCY])]
# model m: 1 correct, 2 incorrect, 3 judge failed, 4 error (judged correct!), 5 missing
PREDS = [pred("1"), pred("2"), pred("3"), pred("4", status="error"),
         pred("1", "n"), pred("2", "n"), pred("3", "n"), pred("4", "n"), pred("5", "n")]
DECISIONS = {("m", "1"): "correct", ("m", "2"): "incorrect", ("m", "3"): "failed",
             ("m", "4"): "correct",
             ("n", "1"): "correct", ("n", "2"): "correct", ("n", "3"): "correct",
             ("n", "4"): "incorrect"}  # n/5 has no decision: failed


def test_accuracy_by_model_keeps_missing_errors_and_failed_apart():
    rows = {r["model"]: r for r in accuracy_by_model(ITEMS, PREDS, DECISIONS)}
    m, n = rows["m"], rows["n"]
    # item 4 errored: no answer, so outside the denominator (1 correct of 2 decided)
    assert (m["n_items"], m["n_judged"], m["n_correct"]) == (5, 2, 1)
    assert (m["n_failed"], m["n_errors"], m["n_missing"]) == (1, 1, 1)
    assert m["accuracy"] == pytest.approx(1 / 2)
    assert (n["n_judged"], n["n_correct"], n["n_failed"], n["n_missing"]) == (4, 3, 1, 0)
    assert n["accuracy"] == pytest.approx(0.75)
    assert n["accuracy_ci_low"] <= n["accuracy"] <= n["accuracy_ci_high"]


def test_accuracy_by_model_does_not_depend_on_input_order():
    items, preds = ITEMS[:], PREDS[:]
    random.Random(0).shuffle(items)
    random.Random(1).shuffle(preds)
    decisions = dict(reversed(list(DECISIONS.items())))
    key = lambda r: r["model"]  # noqa: E731
    assert sorted(accuracy_by_model(items, preds, decisions), key=key) == sorted(
        accuracy_by_model(ITEMS, PREDS, DECISIONS), key=key)


def test_mismatched_keys_are_errors():
    with pytest.raises(RecordError, match="'9'"):
        accuracy_by_model(ITEMS, [pred("9")], {})
    with pytest.raises(RecordError, match="no prediction"):
        accuracy_by_model(ITEMS, [pred("1")], {("m", "2"): "correct"})
    with pytest.raises(RecordError, match="duplicate"):
        accuracy_by_model(ITEMS, [pred("1"), pred("1")], {})


def test_accuracy_by_category_counts_an_item_in_each_of_its_categories():
    rows = accuracy_by_category(ITEMS, DECISIONS, predictions=PREDS)
    assert len(rows) == len(CATEGORIES) * 2
    assert [r["category"] for r in rows[::2]] == list(CATEGORIES)
    by = {(r["category"], r["model"]): r for r in rows}
    assert (by[LATERALITY, "m"]["n"], by[LATERALITY, "m"]["n_correct"]) == (2, 1)
    assert by[DEPTH, "m"]["n"] == 1  # item 3's decision failed
    assert by[DEPTH, "m"]["n_failed"] == 1
    assert by[DEPTH, "n"]["accuracy"] == 1.0
    assert by[DEPTH, "n"]["n_items"] == 2
    # item 4 ("adjacency", a short key) is m's error: left out, though the jury said correct
    assert by[ADJACENCY, "m"]["n"] == 0 and math.isnan(by[ADJACENCY, "m"]["accuracy"])
    assert (by[ADJACENCY, "m"]["n_errors"], by[ADJACENCY, "m"]["n_items"]) == (1, 2)
    assert math.isnan(by[CATEGORIES[-1], "m"]["accuracy"])
    without = {(r["category"], r["model"]): r for r in accuracy_by_category(ITEMS, DECISIONS)}
    assert without[ADJACENCY, "m"]["accuracy"] == 1.0


def test_effective_decisions_leave_errors_out():
    out = effective_decisions({("m", "4"): "correct", ("m", "1"): "incorrect"},
                              [pred("4", status="error"), pred("1")])
    assert out == {("m", "1"): "incorrect"}


def test_bootstrap_ci():
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0)
    values = [1.0] * 30 + [0.0] * 70
    low, high = bootstrap_ci(values, n_boot=2000, seed=1)
    assert low < 0.3 < high
    assert 0.19 < low < 0.23 and 0.37 < high < 0.41  # normal approx: 0.3 +- 0.09
    assert bootstrap_ci(values, seed=4) == bootstrap_ci(values, seed=4)
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def _upstream_radfm_jury():
    """RadFM's three judges' verdicts, given qa_ids by key, never by position.

    Predictions carry the case (in image_path): they are matched to QA items by (case, question,
    answer). Verdict files carry no case: they are matched to predictions by (question, answer,
    prediction); identical rows are told apart by their occurrence among themselves.
    """
    items = load_qa_items(UPSTREAM / "dataset" / "spatial_qa_filtered_full_nifti.jsonl")
    qa_id_of = dict(zip(occurrence_keys(items, lambda r: (r["case_id"], r["question"],
                                                             r["answer"])),
                        (item["qa_id"] for item in items)))
    preds = list(iter_jsonl(UPSTREAM / "predictions" / "radfm_predictions_full.jsonl"))
    case = lambda r: os.path.basename(r["image_path"]).replace(".npy", ".nii.gz")  # noqa: E731
    pred_qa_ids = [qa_id_of[k] for k in occurrence_keys(
        preds, lambda r: (case(r), r["question"], r["answer"]))]
    text_key = lambda r: (r["question"], r["answer"], r["prediction"])  # noqa: E731
    qa_id_of_text = dict(zip(occurrence_keys(preds, text_key), pred_qa_ids))
    verdicts = []
    for judge, name in [("gpt", "radfm_gpt_eval.json"), ("qwen", "radfm_qwen_eval.json"),
                        ("gemini", "radfm_gemini2.5_eval_full.json")]:
        rows = json.loads((UPSTREAM / "judgments" / name).read_text())
        for key, row in zip(occurrence_keys(rows, text_key), rows):
            verdict = {True: "correct", False: "incorrect", None: "failed"}[row["is_correct"]]
            verdicts.append({"qa_id": qa_id_of_text[key], "model": "radfm", "judge": judge,
                             "verdict": verdict})
    return items, verdicts


def test_reproduces_upstream_radfm_jury_accuracy():
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM}")
    items, verdicts = _upstream_radfm_jury()
    decisions = jury_decisions(verdicts, rule="mean066")
    preds = [pred(qa_id, "radfm") for _, qa_id in decisions]
    (row,) = accuracy_by_model(items, preds, decisions, n_boot=200)
    # published/llm_jury_accuracy.json
    assert row["n_judged"] == 9077
    assert row["accuracy"] == pytest.approx(0.31486173845984355, rel=1e-9)
