import logging

from ct_spatial_bench.curation.upstream import attach_categories
from ct_spatial_bench.records import QAItem
from ct_spatial_bench.spatial.categories import CENTRICITY, LATERALITY


def _item(qa_id, case, question, answer):
    """A QA item as CTSpatialVQADataset hands it over (QADataset loads QAItem records)."""
    return QAItem(qa_id=qa_id, case_id=case, question=question, answer=answer)


def test_categories_join_by_case_question_answer_not_position(caplog):
    items = [_item("a::0", "a", "Q1", "A1"), _item("a::1", "a", "Q2", "A2"),
             _item("b::0", "b", "Q1", "A1"), _item("b::1", "b", "Q9", "A9")]
    # Listed in another order than the QA file, with upstream's alias for centricity.
    data = {"b": {"qa_pairs": [{"question": "Q1", "answer": "A1",
                                "category": ["Medial-Lateral Orientation"]}]},
            "a": {"qa_pairs": [{"question": "Q2", "answer": "A2", "category": []},
                               {"question": "Q1", "answer": "A1",
                                "category": ["Laterality & Bilateral Symmetry"]}]}}
    with caplog.at_level(logging.WARNING):
        out = attach_categories(items, data, source="cats.json")
    assert [o["categories"] for o in out] == [[LATERALITY], [], [CENTRICITY], []]
    assert [o["qa_id"] for o in out] == ["a::0", "a::1", "b::0", "b::1"]
    assert out[0]["source"] == "ct_spatialvqa"
    assert "no categories for 1 QA items (first: b::1)" in caplog.text


def test_a_repeated_key_pairs_up_in_file_order():
    items = [_item("a::0", "a", "Q", "A"), _item("a::1", "a", "Q", "A")]
    data = {"a": {"qa_pairs": [{"question": "Q", "answer": "A", "category": ["laterality"]},
                               {"question": "Q", "answer": "A", "category": ["centricity"]}]}}
    assert [o["categories"] for o in attach_categories(items, data)] == [[LATERALITY],
                                                                        [CENTRICITY]]
