import pytest

from ct_spatial_bench.curation.filtering import filter_and_tag
from ct_spatial_bench.curation.llm_classifier import LLMSpatialClassifier, validate_tagger_reply
from ct_spatial_bench.curation.llm_client import ReplyError, load_prompt
from ct_spatial_bench.spatial.categories import ADJACENCY, LATERALITY, LONGITUDINAL


def _item(i, question, answer, categories=()):
    return {"qa_id": f"c::{i}", "case_id": "c", "image_path": "", "question": question,
            "answer": answer, "categories": list(categories), "source": "", "meta": {}}


ITEMS = [
    _item(0, "Which lobe contains the nodule?", "The right upper lobe."),
    _item(1, "Is the heart size normal?", "Yes."),
    _item(2, "Is there a pleural effusion?", "FAIL", [ADJACENCY]),
]


def _classifier(llm, cache_path=None):
    return LLMSpatialClassifier(llm, filter_prompt=load_prompt("spatial_filter_v1"),
                                tagger_prompt=load_prompt("category_tagger_v1"),
                                cache_path=cache_path, progress=False)


@pytest.fixture
def llm(make_llm, tmp_path):
    return _classifier(make_llm("gemini", model="gemini-2.5-flash"), tmp_path / "c.sqlite")


def test_rules_filter_records_classifier_and_version():
    kept, decisions = filter_and_tag(ITEMS, "rules", "rules")
    assert [k["qa_id"] for k in kept] == ["c::0"]
    assert kept[0]["meta"]["spatial_filter"] == "rules"
    assert kept[0]["meta"]["spatial_filter_version"] == "rules-v1"
    assert kept[0]["meta"]["categories_from"] == "rules"
    assert LATERALITY in kept[0]["categories"] and len(decisions) == 3


def test_keep_all_with_given_categories_keeps_upstream_tags():
    kept, _ = filter_and_tag(ITEMS, "keep_all", "given")
    assert len(kept) == 3
    assert kept[2]["categories"] == [ADJACENCY] and kept[2]["meta"]["categories_from"] == "given"
    assert kept[0]["meta"]["categories_from"] == "rules"  # untagged: rules fill in


@pytest.mark.parametrize("provider", ["gemini", "openai"])
def test_llm_filter_and_tagger_record_model_and_prompt_version(provider, make_llm,
                                                                fake_server, tmp_path):
    llm = _classifier(make_llm(provider, model="gemini-2.5-flash"), tmp_path / "c.sqlite")
    kept, decisions = filter_and_tag(ITEMS, "llm", "llm", llm, progress=False)
    assert [k["qa_id"] for k in kept] == ["c::0"]
    meta = kept[0]["meta"]
    assert meta["spatial_filter"] == "llm:gemini-2.5-flash"
    assert meta["spatial_filter_version"].startswith("spatial_filter_v1@")
    assert meta["categories_version"].startswith("category_tagger_v1@")
    assert kept[0]["categories"] == [LATERALITY, LONGITUDINAL]
    # The unparseable reply is a recorded failure, not a "not spatial" guess.
    assert "ReplyError" in decisions[2]["spatial_filter_error"]
    assert decisions[2]["llm_is_spatial"] is None
    assert decisions[1]["llm_is_spatial"] is False and "spatial_filter_error" not in decisions[1]
    assert fake_server.requests == 3 + 1  # three to filter, the one kept to tag
    # Rerun: only the failed item is asked again.
    again, _ = filter_and_tag(ITEMS, "llm", "llm", llm, progress=False)
    assert again == kept and fake_server.requests == 5


def test_llm_tagger_failure_leaves_the_item_untagged_and_says_so(llm):
    kept, _ = filter_and_tag(ITEMS, "keep_all", "llm", llm, progress=False)
    failed = kept[2]
    assert failed["categories"] == [] and "categories_error" in failed["meta"]


def test_tagger_reply_validation():
    assert validate_tagger_reply({"categories": ["extent", "Medial-Lateral Orientation"]}) == [
        "Medial-Lateral Orientation (Centricity)", "Spatial Extent & Boundaries"]
    with pytest.raises(ReplyError, match="unknown spatial category"):
        validate_tagger_reply({"categories": ["Colour"]})


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="spatial_filter must be one of"):
        filter_and_tag(ITEMS, "magic", "rules")
    with pytest.raises(ValueError, match="needs an LLM classifier"):
        filter_and_tag(ITEMS, "llm", "rules")
