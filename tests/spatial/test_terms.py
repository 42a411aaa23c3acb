"""Spatial term extraction and comparison."""

import pytest

from ct_spatial_bench.spatial.terms import compare_spatial_terms, extract_spatial_terms


@pytest.mark.parametrize("text, axis, values", [
    ("Left lower lobe", "lobe", {"LLL"}),
    ("RUL", "lobe", {"RUL"}),
    ("R. upper lobe", "lobe", {"RUL"}),
    ("upper lobe of the left lung", "lobe", {"LUL"}),
    ("right lung, lower lobe", "lobe", {"RLL"}),
    ("middle lobe", "lobe", {"RML"}),
    ("the lingula", "side", {"left"}),
    ("in both lungs", "side", {"bilateral"}),
    ("bilaterally", "side", {"bilateral"}),
    ("right and left lungs", "side", {"bilateral"}),
    ("located posteriorly", "depth", {"posterior"}),
    ("anteriorly", "depth", {"anterior"}),
    ("superior", "vertical", {"upper"}),
    ("at the lung bases", "vertical", {"lower"}),
    ("subpleural", "centricity", {"subpleural"}),
    ("lower lobes of both lungs", "lobe", {"RLL", "LLL"}),
])
def test_extraction(text, axis, values):
    assert extract_spatial_terms(text)[axis] == frozenset(values)


def test_segment_names_do_not_set_level():
    terms = extract_spatial_terms("superior segment of the right lower lobe")
    assert terms["vertical"] == {"lower"}
    assert terms["segment"] == {"superior"}


@pytest.mark.parametrize("text", ["cleft lip", "a nodule amid fibrosis", "bilateral"])
def test_word_boundaries(text):
    terms = extract_spatial_terms(text)
    assert "left" not in terms.get("side", set())
    assert "middle" not in terms.get("vertical", set())
    assert "lateral" not in terms.get("centricity", set())


def test_negation_moves_values_aside():
    terms = extract_spatial_terms("No effusion on the left. A nodule on the right.")
    assert terms["side"] == {"right"}
    assert terms["not_side"] == {"left"}
    assert "not_side" not in extract_spatial_terms("A node and a nodule on the left")


def test_left_lower_vs_right_lower_conflicts_on_side_and_lobe():
    result = compare_spatial_terms("left lower lobe", "right lower lobe")
    assert {axis for axis, _, _ in result.conflicts} == {"side", "lobe"}
    assert [axis for axis, _, _ in result.agreements] == ["vertical"]


def test_right_lung_agrees_with_right():
    result = compare_spatial_terms("Right lung", "right")
    assert not result.conflicts and not result.missing
    assert result.agreements[0][0] == "side"


def test_missing_and_added_values():
    assert [a for a, _ in compare_spatial_terms("Right upper lobe", "right lung").missing] == [
        "vertical", "lobe"]
    assert compare_spatial_terms("right upper lobe", "right upper and lower lobes").has_conflict
    assert compare_spatial_terms("both lungs", "right lung").has_conflict
    assert not compare_spatial_terms("peripheral", "subpleural").has_conflict


def test_negated_against_asserted_conflicts():
    assert compare_spatial_terms("no effusion on the left", "effusion on the left").has_conflict
