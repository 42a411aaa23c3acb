"""Exact scoring: free-text readings of closed answers, and VSI-Bench's mean relative accuracy."""

from __future__ import annotations

import pytest

from ct_spatial_bench.mask_qa.scoring import (
    mean_relative_accuracy, read_closed, read_number, score_item,
)
from ct_spatial_bench.records import Prediction, QAItem


def _item(family, asked, other, answer="Yes", reference_noun=""):
    """A closed mask question as questions.py makes it (a QAItem, its family in extra)."""
    return QAItem(qa_id="q", case_id="c", categories=[], answer_type="closed", answer=answer,
                  meta={"pair_id": "p", "asked_pole": asked, "other_pole": other,
                        "reference_noun": reference_noun},
                  extra={"family": family})


def _prediction(text, status="ok"):
    return Prediction(qa_id="q", model="m", prediction=text, status=status)


@pytest.mark.parametrize("prediction,target,expected", [
    # hand computation: relative error e; thresholds t = 0.50, 0.55, ..., 0.95 (ten of them);
    # MRA = share of t with e <= 1 - t
    (10.0, 10.0, 1.0),
    (8.7, 10.0, 0.8),     # e = 0.13: t = 0.50 .. 0.85 pass (8 of 10)
    (13.0, 10.0, 0.5),    # e = 0.30: 1 - t >= 0.30 for t = 0.50 .. 0.70 (5 of 10)
    (4.0, 10.0, 0.0),     # e = 0.60 > 0.50
    (10.4, 10.0, 1.0),    # e = 0.04 < 0.05
])
def test_mean_relative_accuracy_by_hand(prediction, target, expected):
    assert mean_relative_accuracy(prediction, target) == pytest.approx(expected)


@pytest.mark.parametrize("reply,read", [
    ("Yes.", "Yes"), ("no, it is not", "No"), ("YES - clearly on the right", "Yes"),
    ("It is on the right side of the patient.", "Yes"),
    ("The nodule lies in the left lung.", "No"),
    ("It is not on the right.", "No"),
    ("Right lung, not the left.", "Yes"),
    ("It could be on the right or the left.", "hedged"),
    ("Cannot determine from this image.", "hedged"),
    ("There is a nodule.", "unreadable"),
    ("", "unreadable"),
])
def test_laterality_replies_read_with_the_spatial_vocabulary(reply, read):
    assert read_closed(_item("laterality", "right", "left"), reply) == read


@pytest.mark.parametrize("reply,read", [
    ("It lies below it.", "No"), ("Superior to the heart.", "Yes"),
    ("The nodule is higher.", "Yes"), ("It is inferior, not superior.", "No"),
])
def test_ordering_replies(reply, read):
    assert read_closed(_item("longitudinal_order", "above", "below"), reply) == read


@pytest.mark.parametrize("asked,reply,read", [
    ("inside", "It is in the right upper lobe.", "Yes"),
    ("inside", "The nodule is in the RLL.", "No"),
    ("outside", "It is in the right upper lobe.", "No"),
    ("outside", "Left lower lobe.", "Yes"),
    ("inside", "The right upper lobe and the right lower lobe.", "hedged"),
])
def test_containment_replies_read_by_lobe(asked, reply, read):
    item = _item("containment", asked, "outside" if asked == "inside" else "inside",
                 reference_noun="right upper lobe")
    assert read_closed(item, reply) == read


def test_numbers_are_read_with_their_unit():
    assert read_number("about 2.5 cm", "mm") == 25.0
    assert read_number("The diameter is 12 mm.", "mm") == 12.0
    assert read_number("two lobes", "lobes") == 2.0
    assert read_number("large", "mm") is None


def test_scores_keep_failures_out_and_hedges_in():
    item = _item("laterality", "right", "left")
    assert score_item(item, None)["outcome"] == "failed"
    assert score_item(item, _prediction("", status="error"))["score"] is None
    hedged = score_item(item, _prediction("either side"))
    assert hedged["outcome"] == "hedged" and hedged["score"] == 0.0
    number = QAItem(qa_id="n", case_id="c", categories=[], answer_type="number", answer="10",
                    meta={"unit": "mm"}, extra={"family": "largest_diameter"})
    assert score_item(number, _prediction("0.87 cm"))["score"] == pytest.approx(0.8)
