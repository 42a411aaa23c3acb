import json

import pytest

from ct_spatial_bench.curation.generation import generate_qa, validate_qa_reply
from ct_spatial_bench.curation.llm_client import LLMConfig, ReplyError, load_prompt

REPORTS = [
    {"case_id": "valid_1_a_1.nii.gz", "findings": "A nodule in the right upper lobe.",
     "impressions": ""},
    {"case_id": "valid_2_a_1.nii.gz", "findings": "BROKEN", "impressions": ""},
    {"case_id": "valid_3_a_1.nii.gz", "findings": "", "impressions": ""},
]


def _reply(user: str) -> str:
    if "BROKEN" in user:
        return json.dumps({"qa_pairs": [{"question": "Only one?", "answer": "Yes."}]})
    pairs = [{"question": f"Question {i} about the right upper lobe?", "answer": f"Answer {i}."}
             for i in range(8)]
    pairs.append({"question": "", "answer": "blank question, dropped"})
    return "```json\n" + json.dumps({"qa_pairs": pairs}) + "\n```"


def test_validate_keeps_usable_pairs_and_caps_them():
    reply = {"qa_pairs": [{"question": "Q1?", "answer": "A"}, {"question": "q1?", "answer": "B"},
                          {"question": "Q2?", "answer": 3}, "junk",
                          {"question": "Q3?", "answer": "C"}]}
    assert validate_qa_reply(reply, 1, 10) == [{"question": "Q1?", "answer": "A"},
                                                {"question": "Q3?", "answer": "C"}]
    assert len(validate_qa_reply(reply, 1, 1)) == 1
    with pytest.raises(ReplyError, match="2 usable QA pairs, at least 7"):
        validate_qa_reply(reply, 7, 10)


def test_llm_generation_against_a_fake_server(tmp_path, fake_openai):
    server = fake_openai(_reply)
    llm = LLMConfig(model="gpt-4o", base_url=server.base_url, api_key_env=None)
    kwargs = dict(prompt=load_prompt("qa_generation_v1"), llm=llm,
                  cache_path=str(tmp_path / "cache.jsonl"), min_pairs=7, max_pairs=10)
    items, log = generate_qa(REPORTS, "llm", **kwargs)
    assert [r["status"] for r in log] == ["ok", "failed", "skipped"]
    assert "1 usable QA pairs" in log[1]["error"]
    assert len(items) == 8 and items[0]["qa_id"] == "valid_1_a_1.nii.gz::0"
    assert items[7]["qa_id"] == "valid_1_a_1.nii.gz::7"
    meta = items[0]["meta"]
    assert meta["generator"] == "llm:gpt-4o" and meta["prompt_version"].startswith(
        "qa_generation_v1@") and meta["generation"]["temperature"] == 0.0
    assert "Findings: A nodule in the right upper lobe." in server.requests[0]["messages"][1][
        "content"]
    # Rerun: the valid reply comes from the cache, the failed report is asked again.
    items_again, log_again = generate_qa(REPORTS, "llm", **kwargs)
    assert items_again == items and log_again[0]["cached"] is True
    assert len(server.requests) == 3


def test_template_generation_needs_no_key():
    items, log = generate_qa(REPORTS, "templates",
                             image_path_of=lambda r: f"volumes/{r['case_id']}")
    assert log[0]["n_pairs"] == len([i for i in items if i["case_id"] == "valid_1_a_1.nii.gz"])
    assert items[0]["source"] == "templates" and items[0]["image_path"].startswith("volumes/")
    assert items[0]["meta"]["generator_version"] == "templates-v1"
    assert {i["meta"]["template"] for i in items} >= {"where", "lobe", "side"}
