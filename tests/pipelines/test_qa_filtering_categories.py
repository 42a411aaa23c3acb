"""The sanity split keeps the generator's categories; the rule tagger is measured against them."""

import pytest

from ct_spatial_bench.pipelines.qa_filtering.nodes import (
    filter_spatial_questions,
    measure_tagger_agreement,
)
from ct_spatial_bench.spatial.categories import ADJACENCY, EXTENT, LATERALITY

QUESTION = "Does the consolidation cross a fissure into an adjacent lobe?"


def test_given_categories_survive_and_the_tagger_is_scored_by_hand():
    items = [
        {"qa_id": "a", "case_id": "c", "question": QUESTION, "answer": "No",
         "categories": [EXTENT, ADJACENCY], "source": "templated", "meta": {}},
        {"qa_id": "b", "case_id": "c", "question": "Which lung holds the nodule?",
         "answer": "The left lung", "categories": [LATERALITY], "source": "templated",
         "meta": {}},
    ]
    kept, decisions = filter_spatial_questions(
        items, {"spatial_filter": "keep_all", "categories": "given"})
    assert [k["categories"] for k in kept] == [[EXTENT, ADJACENCY], [LATERALITY]]
    table = measure_tagger_agreement(decisions).set_index("category")
    for category in (EXTENT, ADJACENCY, LATERALITY):
        truth = [category in d["categories"] for d in decisions]
        tagged = [category in d["rule_categories"] for d in decisions]
        tp = sum(t and g for t, g in zip(truth, tagged))
        precision = tp / sum(tagged) if sum(tagged) else 0.0
        recall = tp / sum(truth)
        row = table.loc[category]
        assert (row["n_true"], row["n_tagged"]) == (sum(truth), sum(tagged))
        assert row["precision"] == pytest.approx(precision)
        assert row["recall"] == pytest.approx(recall)
    assert table.loc[LATERALITY, "n_true"] == 1 and table.loc[EXTENT, "n_true"] == 1
    assert table["categories_from"].iloc[0] == "templated"
