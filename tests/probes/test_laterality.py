"""Which items are mirrored, how their answers swap, and how a model's answers are classed."""

from __future__ import annotations

import pytest

from ct_spatial_bench.probes.laterality import (
    flip_outcome,
    flip_outcomes,
    flip_summary,
    select_flip_items,
    sides_named,
    swap_sides,
)
from ct_spatial_bench.spatial.categories import LATERALITY, LONGITUDINAL


def _item(qa_id, question, answer, categories=(LATERALITY,)):
    return {"qa_id": qa_id, "case_id": "c", "image_path": "c", "question": question,
            "answer": answer, "categories": list(categories), "meta": {}}


def test_sides_and_swaps():
    assert sides_named("Right hilar") == {"right"}
    assert sides_named("bilateral effusions") == {"right", "left"}
    assert sides_named("No") == frozenset()
    assert swap_sides("Right hilar, left lung; RIGHT") == "Left hilar, right lung; LEFT"
    assert swap_sides("the bright spot") == "the bright spot"  # 'bright' is not a side


def test_only_unambiguous_mirrorable_items_are_probed():
    items = [
        _item("a", "On which side is the pleural effusion?", "Left"),
        _item("b", "On which side is the pleural effusion?", "Bilateral"),
        _item("c", "Where is the aortic arch?", "On the left"),
        _item("d", "Which lobe contains the nodule?", "Right middle lobe"),
        _item("e", "Which lobe contains the nodule?", "Left upper lobe"),
        _item("f", "Is the nodule above the carina?", "Above", (LONGITUDINAL,)),
        _item("g", "Does it cross a fissure?", "Yes"),
    ]
    mirrored, excluded = select_flip_items(items)
    assert [(m["qa_id"], m["answer"]) for m in mirrored] == [("a", "Right")]
    assert mirrored[0]["meta"]["original_answer"] == "Left"
    reasons = {e["qa_id"]: e["reason"] for e in excluded}
    assert set(reasons) == {"b", "c", "d", "e", "g"}  # f is not a laterality item
    assert "aort" in reasons["c"] and "both sides" in reasons["b"]
    kept, _ = select_flip_items(items, exclude_lobes=False)
    assert {m["qa_id"] for m in kept} == {"a", "e"}  # the middle lobe stays out either way


@pytest.mark.parametrize("before, after, outcome", [
    ("Right lung", "Left lung", "follows"),
    ("Right", "right", "same_side"),
    ("Bilateral", "Bilateral", "same_side"),
    ("Right", "Bilateral", "wrong_flip"),
    ("Right", "Unknown", "wrong_flip"),
    ("Unknown", "No idea", "no_side"),
])
def test_outcomes(before, after, outcome):
    assert flip_outcome(before, after) == outcome


def test_outcomes_join_by_key_and_summarise():
    mirrored, _ = select_flip_items([_item("a", "Which side?", "Left"),
                                     _item("b", "Which side?", "Right")])
    originals = [{"model": "m", "qa_id": "b", "prediction": "Right", "status": "ok"},
                 {"model": "m", "qa_id": "a", "prediction": "Left", "status": "ok"}]
    on_mirror = [{"model": "m", "qa_id": "a", "prediction": "Right", "status": "ok"},
                 {"model": "m", "qa_id": "b", "prediction": "Right", "status": "ok"},
                 {"model": "m", "qa_id": "zz", "prediction": "Right", "status": "ok"}]
    rows = flip_outcomes(mirrored, originals, on_mirror)
    assert {r["qa_id"]: r["outcome"] for r in rows} == {"a": "follows", "b": "same_side"}
    (summary,) = flip_summary(rows)
    assert summary["n_items"] == 2
    assert summary["flip_consistency"] == summary["same_side_rate"] == 0.5
    assert summary["mirrored_side_accuracy"] == 0.5
