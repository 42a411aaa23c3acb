"""Within-case leaks found and removed, on relations written by hand."""

from dataclasses import replace

from ct_spatial_bench.mask_qa.leaks import drop_leaks, leaks
from ct_spatial_bench.mask_qa.questions import Skips
from ct_spatial_bench.records import QAItem


def _relation(family, subject, reference, answer, case="c", **meta):
    """A relation's positive item, as questions.py makes them (a QAItem, family in extra)."""
    pair_id = f"{case}::{family}::{subject}::{reference}"
    return QAItem(qa_id=pair_id + "::positive", case_id=case, answer=answer,
                  meta={"pair_id": pair_id, "polarity": "positive", "subject": subject,
                        "reference": reference, "mirrored": False, **meta},
                  extra={"family": family})


def test_a_chain_of_orders_gives_away_its_ends():
    # A above B, B above C: "Is A above C?" follows. A above B and A above C do not give B
    # against C, nor do B above C and A above C give A against B: only A-C leaks.
    items = [_relation("longitudinal_order", "a", "b", "Yes"),
             _relation("longitudinal_order", "c", "b", "No"),  # C below B: B above C
             _relation("longitudinal_order", "a", "c", "Yes")]
    found = leaks(items)
    assert [f["relation"] for f in found] == [items[2]["meta"]["pair_id"]]
    kept = drop_leaks(items, Skips())
    assert len(kept) == 2 and leaks(kept) == []
    # A above B and A above C say nothing of B against C: no leak
    assert leaks([items[0], items[2], _relation("depth_order", "b", "c", "Yes")]) == []
    # another case's relations never count
    assert leaks([items[0], items[1], _relation("longitudinal_order", "a", "c", "Yes",
                                                case="other")]) == []


def test_the_findings_lobe_gives_away_its_side_other_lobes_and_count():
    lobe = _relation("containment", "nodule", "lung_lower_lobe_right", "Yes",
                     reference_side="right")
    other = _relation("containment", "nodule", "lung_upper_lobe_left", "No",
                      reference_side="left")
    side = _relation("laterality", "nodule", "", "Yes")
    count = _relation("lobes_spanned", "nodule", "", "1")
    count = replace(count, qa_id="c::lobes_spanned::nodule", meta={**count.meta, "pair_id": None})
    reasons = {f["relation"]: f["reason"] for f in leaks([lobe, other, side, count])}
    assert set(reasons) == {other["meta"]["pair_id"], side["meta"]["pair_id"], count["qa_id"]}
    # the side alone gives away a lobe of the other lung, not one of its own
    assert leaks([side, other]) and not leaks(
        [side, _relation("containment", "nodule", "lung_upper_lobe_right", "No",
                         reference_side="right")])


def test_a_named_side_piece_gives_away_both_sides():
    both = _relation("bilaterality", "pleural_effusion", "", "Yes")
    piece = _relation("depth_order", "pleural_effusion_right", "heart", "No")
    assert [f["relation"] for f in leaks([both, piece])] == [both["meta"]["pair_id"]]
