"""The spatial-slot score: per-axis outcomes by hand, rates, and its kappa against sklearn's."""

import math

import pytest
from sklearn.metrics import cohen_kappa_score

from ct_spatial_bench.metrics.slots import (
    asked_slots,
    item_outcome,
    score_slots,
    slot_jury_agreement,
    slot_jury_disagreements,
    slot_outcomes,
    slot_table,
)

WHERE = "Where is the nodule?"


@pytest.mark.parametrize("answer, prediction, expected", [
    ("Right lower lobe", "right lower lobe",
     {"side": "agree", "vertical": "agree", "lobe": "agree"}),
    ("Right lower lobe", "left lower lobe",
     {"side": "conflict", "vertical": "agree", "lobe": "conflict"}),
    ("Right lower lobe", "in the right lung",
     {"side": "agree", "vertical": "missing", "lobe": "missing"}),
    ("left", "a right and left effusion", {"side": "hedge"}),
    ("left", "bilateral", {"side": "hedge"}),
    ("bilateral", "on the right", {"side": "conflict"}),
    ("left", "no effusion on the left", {"side": "conflict"}),
    ("in the upper zone", "upper or lower zone", {"vertical": "hedge"}),
    ("peripheral", "subpleural", {"centricity": "agree"}),   # subpleural implies peripheral
    ("subpleural", "peripheral", {"centricity": "missing"}),  # less specific: not covered
    ("anterior", "", {"depth": "missing"}),
])
def test_axis_outcomes_by_hand(answer, prediction, expected):
    assert slot_outcomes(WHERE, answer, prediction) == expected


def test_slots_the_question_states_are_not_asked():
    assert asked_slots("Which lobe of the right lung holds the nodule?", "Right upper lobe") == {
        "vertical": frozenset({"upper"}), "lobe": frozenset({"RUL"})}
    assert asked_slots("Is there an effusion?", "No") == {}


def test_item_outcome_is_the_worst_axis():
    assert item_outcome({"side": "agree", "lobe": "missing"}) == "missing"
    assert item_outcome({"side": "hedge", "lobe": "conflict"}) == "conflict"
    assert item_outcome({"side": "agree"}) == "agree"
    assert item_outcome({}) is None


def _fixture():
    items = [
        {"qa_id": "q1", "case_id": "c1", "question": WHERE, "answer": "right upper lobe",
         "categories": ["Laterality & Bilateral Symmetry"]},
        {"qa_id": "q2", "case_id": "c1", "question": "Which side?", "answer": "left",
         "categories": ["Laterality & Bilateral Symmetry"]},
        {"qa_id": "q3", "case_id": "c2", "question": "Is there effusion?", "answer": "No",
         "categories": []},
        {"qa_id": "q4", "case_id": "c2", "question": WHERE, "answer": "anterior",
         "categories": ["Anterior-Posterior (Depth) Relations"]},
    ]
    texts = {"q1": "right upper lobe", "q2": "right", "q3": "yes", "q4": "somewhere"}
    preds = [{"model": "m", "qa_id": q, "prediction": t, "status": "ok"} for q, t in texts.items()]
    return items, preds


def test_scores_and_rates_per_category():
    items, preds = _fixture()
    rows = score_slots(items, preds)
    assert {r["qa_id"]: r["slot_outcome"] for r in rows} == {
        "q1": "agree", "q2": "conflict", "q4": "missing"}  # q3 names no slot
    table = {r["category"]: r for r in slot_table(items, rows, n_boot=50)}
    assert table["All"]["n_slot"] == 3
    assert table["All"]["slot_accuracy"] == pytest.approx(1 / 3)
    assert table["All"]["slot_conflict_rate"] == pytest.approx(1 / 3)
    assert table["All"]["slot_missing_rate"] == pytest.approx(1 / 3)
    assert table["All"]["slot_hedge_rate"] == 0
    lat = table["Laterality & Bilateral Symmetry"]
    assert (lat["n_slot"], lat["slot_accuracy"]) == (2, 0.5)
    assert math.isnan(table["Spatial Extent & Boundaries"]["slot_accuracy"])


def test_kappa_against_the_jury_matches_sklearn():
    items = [{"qa_id": f"q{i}", "case_id": f"c{i}", "question": WHERE, "answer": "left lung"}
             for i in range(12)]
    texts = ["left", "right", "left", "", "left", "right", "bilateral", "left", "right",
             "left", "left", "right"]
    jury = ["correct", "incorrect", "incorrect", "incorrect", "correct", "correct",
            "incorrect", "correct", "incorrect", "correct", "failed", "incorrect"]
    preds = [{"model": "m", "qa_id": f"q{i}", "prediction": t, "status": "ok"}
             for i, t in enumerate(texts)]
    decisions = {("m", f"q{i}"): d for i, d in enumerate(jury)}
    rows = score_slots(items, preds)
    (model, overall) = slot_jury_agreement(rows, decisions)
    slot = [t == "left" for t, d in zip(texts, jury) if d != "failed"]
    judged = [d == "correct" for d in jury if d != "failed"]
    assert model["n"] == overall["n"] == 11
    assert model["kappa"] == pytest.approx(cohen_kappa_score(slot, judged))
    cells = {(r["slot_outcome"], r["jury"]): r for r in
             slot_jury_disagreements(rows, decisions, items, preds)}
    assert cells[("agree", "incorrect")]["count"] == 1   # q2
    assert cells[("conflict", "correct")]["count"] == 1  # q5
    assert "Q: Where is the nodule?" in cells[("conflict", "correct")]["examples"]


def test_slot_reading_as_a_careful_reader_would():
    # each case read by hand: question, reference, prediction -> the outcome a reader gives
    from ct_spatial_bench.metrics.slots import asked_slots, item_outcome, slot_outcomes

    def outcome(question, answer, prediction):
        return item_outcome(slot_outcomes(question, answer, prediction))

    # a question about the left lung compares the left only, though the reference says both
    assert asked_slots("Is there pleural effusion in the left lung?",
                       "Bilateral pleural effusion, larger on the right") == {}
    # the lingula is in the left upper lobe
    assert outcome("Where is the nodule?", "Left upper lobe", "In the lingula") == "agree"
    # a paratracheal station is not a vertical level: only its side is a slot
    assert asked_slots("Where is the enlarged lymph node?",
                       "Lower right paratracheal station") == {"side": frozenset({"right"})}
    # Merlin's run-on continuation is cut before reading
    assert outcome("Which lung holds the nodule?", "Right lung",
                   "Right lung. Question: Is there effusion? Answer: left side") == "agree"


def _agreement_module():
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("slot_agreement",
                                                  root / "benchmarks" / "slot_agreement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("which, count, label_floor, decision_floor", [
    # development set (200, seed 24): rules were drawn from its disagreements, so in-sample;
    # measured 0.955 / 0.980 after those rules and two label corrections
    ("LABELS", 200, 0.945, 0.97),
    # held-out set (220, seed 2424): labelled before the scorer was run on it, no rule drawn from
    # it; measured 0.918 / 0.955 with the rules above (0.841 / 0.927 before them). Floors: the
    # measured shares less two or three items, so a change reading worse than the hand labels
    # fails here
    ("HELD_OUT", 220, 0.905, 0.945),
])
def test_slot_score_against_the_hand_labels_does_not_slip(which, count, label_floor,
                                                          decision_floor):
    # upstream items labelled by reading them (tests/data/slot_labelling_guide.md); the hand
    # labels, not the scorer, are the reference
    module = _agreement_module()
    rows = module.read_labels(getattr(module, which))
    assert len(rows) == count and all(r["reason"] for r in rows)
    assert {r["slot_label"] for r in rows} <= {"agree", "conflict", "missing", "hedge", "none"}
    labels, decisions, _ = module.agreement(rows)
    assert labels >= label_floor and decisions >= decision_floor


def test_the_two_hand_labelled_sets_are_disjoint():
    module = _agreement_module()
    def keys(path):
        return {(r["model"], r["question"], r["answer"], r["prediction"])
                for r in module.read_labels(path)}

    assert not keys(module.LABELS) & keys(module.HELD_OUT)
