import pytest
from support.fake_llm_server import API_KEYS, llm_settings
from support.killed_runs import cached_rows, run_and_kill

from ct_spatial_bench.curation.generation import generate_qa, validate_qa_reply
from ct_spatial_bench.curation.llm_client import ReplyError, curation_llm, load_prompt

REPORTS = [
    {"case_id": "valid_1_a_1.nii.gz", "findings": "A nodule in the right upper lobe.",
     "impressions": ""},
    {"case_id": "valid_2_a_1.nii.gz", "findings": "BROKEN", "impressions": ""},
    {"case_id": "valid_3_a_1.nii.gz", "findings": "", "impressions": ""},
    {"case_id": "valid_4_a_1.nii.gz", "findings": "Left effusion. [[garbagex1]]",
     "impressions": ""},
]


def test_validate_keeps_usable_pairs_and_caps_them():
    reply = {"qa_pairs": [{"question": "Q1?", "answer": "A"}, {"question": "q1?", "answer": "B"},
                          {"question": "Q2?", "answer": 3}, "junk",
                          {"question": "Q3?", "answer": "C"}]}
    assert validate_qa_reply(reply, 1, 10) == [{"question": "Q1?", "answer": "A"},
                                                {"question": "Q3?", "answer": "C"}]
    assert len(validate_qa_reply(reply, 1, 1)) == 1
    with pytest.raises(ReplyError, match="2 usable QA pairs, at least 7"):
        validate_qa_reply(reply, 7, 10)


@pytest.mark.parametrize("provider", ["openai", "qwen", "gemini"])
def test_llm_generation_through_each_sdk(provider, make_llm, fake_server, tmp_path):
    llm = make_llm(provider, model="m-1")
    kwargs = {"prompt": load_prompt("qa_generation_v1"), "llm": llm, "min_pairs": 7,
              "cache_path": str(tmp_path / "cache.sqlite"), "max_pairs": 10, "progress": False}
    items, log = generate_qa(REPORTS, "llm", **kwargs)
    assert [r["status"] for r in log] == ["ok", "failed", "skipped", "failed"]
    assert "1 usable QA pairs" in log[1]["error"] and log[1]["case_id"] == "valid_2_a_1.nii.gz"
    assert "ReplyError: no JSON object" in log[3]["error"]
    assert len(items) == 8 and items[0]["qa_id"] == "valid_1_a_1.nii.gz::0"
    assert items[7]["qa_id"] == "valid_1_a_1.nii.gz::7"
    meta = items[0]["meta"]
    assert meta["generator"] == "llm:m-1" and meta["prompt_version"].startswith(
        "qa_generation_v1@")
    assert meta["generation"] == {"provider": provider, "model": "m-1",
                                  "base_url": llm.client.base_url, "temperature": 0.0,
                                  "max_tokens": 500, "json_mode": True}
    assert fake_server.requests == 3
    # Rerun: the valid reply comes from the cache; the two failed reports are asked again, and
    # the one whose reply was invalid only the first time is now answered.
    items_again, log_again = generate_qa(REPORTS, "llm", **kwargs)
    assert fake_server.requests == 5
    assert log_again[0]["cached"] is True and log_again[3]["status"] == "ok"
    assert items_again[:8] == items and len(items_again) == 16


def test_template_generation_needs_no_key():
    items, log = generate_qa(REPORTS, "templates",
                             image_path_of=lambda r: f"volumes/{r['case_id']}", progress=False)
    assert log[0]["n_pairs"] == len([i for i in items if i["case_id"] == "valid_1_a_1.nii.gz"])
    assert items[0]["source"] == "templates" and items[0]["image_path"].startswith("volumes/")
    assert items[0]["meta"]["generator_version"] == "templates-v1"
    assert {i["meta"]["template"] for i in items} >= {"where", "lobe", "side"}


N_REPORTS = 30
CHILD = """
import json, sys
from ct_spatial_bench.curation.generation import generate_qa
from ct_spatial_bench.curation.llm_client import curation_llm, load_prompt
settings, keys, reports, cache = json.loads(sys.argv[1])
llm = curation_llm(settings, keys, "qa_generation", "templates")
generate_qa(reports, "llm", prompt=load_prompt("qa_generation_v1"), llm=llm, cache_path=cache,
            progress=False)
"""


def test_killed_generation_resumes_without_asking_any_report_twice(fake_server, tmp_path):
    reports = [{"case_id": f"valid_{i}_a_1.nii.gz", "findings": f"Nodule number {i}.",
                "impressions": ""} for i in range(N_REPORTS)]
    settings, cache = llm_settings(fake_server, "qwen", concurrency=3), tmp_path / "c.sqlite"
    run_and_kill(fake_server, CHILD, [settings, API_KEYS, reports, str(cache)], cache,
                 "replies", answers=10)
    first = sum(fake_server.answered.values())
    assert 10 <= first < N_REPORTS and cached_rows(cache, "replies") == first

    llm = curation_llm(settings, API_KEYS, "qa_generation", "templates")
    items, log = generate_qa(reports, "llm", prompt=load_prompt("qa_generation_v1"), llm=llm,
                             cache_path=cache, progress=False)
    assert {r["status"] for r in log} == {"ok"} and len(items) == 8 * N_REPORTS
    assert sum(r["cached"] for r in log) == first
    # The server's own count: every report was answered exactly once over both runs.
    assert sorted(fake_server.answered.values()) == [1] * N_REPORTS
    before = fake_server.requests
    generate_qa(reports, "llm", prompt=load_prompt("qa_generation_v1"), llm=llm,
                cache_path=cache, progress=False)
    assert fake_server.requests == before  # a rerun makes zero calls
