"""Under ``protocol: upstream`` each judge sends what upstream's script sends, byte for byte.

The expected requests are built here from the text of CT-SpatialVQA's scripts
(github.com/Mashrafi27/CT-SpatialVQA at e25374cc515975ab816aca3d425f893e689a6db3,
benchmarking/eval_scripts/scripts/evaluate_with_{gpt,gemini,qwen}.py): their PROMPT_TEMPLATE and
their item-formatting loop re-typed as the scripts write them, not produced by the project's
renderer. What the real SDKs send to the fake server on 127.0.0.1 must equal them.

Transport: upstream's Gemini script used google-generativeai (gRPC by default); the project uses
google-genai (REST). What is compared is the request's content: model, the one user turn with the
prompt text byte for byte, and the absence of any system instruction or generation config.
"""

from __future__ import annotations

import json
import re

import pytest

from support.fake_llm_server import GOOD_KEY

# evaluate_with_gpt.py / evaluate_with_gemini.py / evaluate_with_qwen.py: PROMPT_TEMPLATE
UPSTREAM_PROMPT_TEMPLATE = """You are a medical QA evaluator.
For each item determine if the model prediction semantically matches the ground-truth answer.
Consider synonyms and equivalent medical phrasing as correct, but require the same clinical fact.
Respond strictly as JSON list where each element is:
{{"index": <int>, "is_correct": true/false}}

Batch:
{batch}
"""
UPSTREAM_SYSTEM = "You are a strict medical QA evaluator."  # gpt and qwen scripts only


def upstream_prompt(batch: list[dict]) -> str:
    """judge_with_model's loop, as the scripts write it."""
    prompt_entries = []
    for offset, record in enumerate(batch, start=1):
        prompt_entries.append(
            f"{offset}. Question: {record.get('question')}\n"
            f"   Answer: {record.get('answer')}\n"
            f"   Prediction: {record.get('prediction')}"
        )
    return UPSTREAM_PROMPT_TEMPLATE.format(batch="\n".join(prompt_entries))


# Seven items, one of them an empty prediction (upstream judged those too), with a brace and
# a quote in the text to catch any formatting slip.
RECORDS = [
    {"question": "Which lung has the nodule?", "answer": "Right lung", "prediction": "right lung"},
    {"question": "Is the effusion bilateral?", "answer": "Yes, bilateral",
     "prediction": "It is on the left {only}"},
    {"question": "Where is the mass?", "answer": "Right upper lobe", "prediction": ""},
    {"question": "Which lobe shows \"ground-glass\"?", "answer": "Left lower lobe",
     "prediction": "left lower lobe"},
    {"question": "Is the nodule central or peripheral?", "answer": "Peripheral",
     "prediction": "central"},
    {"question": "What lies anterior to the trachea?", "answer": "The thyroid",
     "prediction": "the thyroid"},
    {"question": "Does the consolidation cross the fissure?", "answer": "No",
     "prediction": "no"},
]
_ITEM = re.compile(r"(\d+)\. Question: (.*)\n   Answer: (.*)\n   Prediction: (.*)")


def upstream_reply(user: str) -> tuple[str, str]:
    """The fake judge: {"index", "is_correct"} per item, in reverse order (a position join
    would misplace every verdict)."""
    items = _ITEM.findall(user)
    reply = [{"index": int(i), "is_correct": a.lower() == p.lower()} for i, _, a, p in items]
    return items[0][1], json.dumps(list(reversed(reply)))


@pytest.fixture
def upstream_server():
    from support.fake_llm_server import FakeLLMServer

    server = FakeLLMServer(answer=upstream_reply).start()
    yield server
    server.stop()


def _qa_and_predictions():
    qa = [{"qa_id": f"case_{i}.nii.gz::0", "case_id": f"case_{i}.nii.gz", "question": r["question"],
           "answer": r["answer"]} for i, r in enumerate(RECORDS)]
    preds = [{"qa_id": item["qa_id"], "model": "m", "prediction": r["prediction"], "status": "ok"}
             for item, r in zip(qa, RECORDS)]
    return qa, preds


def _judge(settings: dict, server):
    """The judge as ``protocol: upstream`` configures it, aimed at the fake server."""
    from ct_spatial_bench.judges.registry import build_judges

    spec = {**settings, "config": {**settings["config"], "api_key": GOOD_KEY,
                                   "base_url": server.urls[
                                       "gemini" if settings["name"] == "gemini" else "openai"],
                                   "backoff_base_s": 0.01, "timeout_s": 5}}
    (judge,) = build_judges([spec], defaults={"prompts_dir": "conf/base/judge_prompts",
                                              "judge_empty_predictions": True})
    return judge


def _upstream_judges() -> dict[str, dict]:
    import yaml

    with open("conf/base/parameters_protocol.yml", encoding="utf-8") as handle:
        judges = yaml.safe_load(handle)["upstream_protocol"]["judging"]["judges"]
    return {spec["config"]["name"]: spec for spec in judges}


def _run(judge, tmp_path):
    from ct_spatial_bench.judges.engine import judge_predictions

    qa, preds = _qa_and_predictions()
    return judge_predictions([judge], qa, preds, cache_path=tmp_path / "cache.sqlite",
                             progress=False)


@pytest.mark.parametrize("name, model", [("gpt", "gpt-4o-mini"), ("qwen", "qwen-plus")])
def test_openai_sdk_judges_send_upstreams_request(name, model, upstream_server, tmp_path,
                                                  monkeypatch):
    monkeypatch.chdir(_project_root())
    verdicts = _run(_judge(_upstream_judges()[name], upstream_server), tmp_path)

    sent = upstream_server.all_bodies["openai"]
    expected = [{"model": model,
                 "messages": [{"role": "system", "content": UPSTREAM_SYSTEM},
                              {"role": "user", "content": upstream_prompt(batch)}],
                 "temperature": 0.0, "max_tokens": 512}
                for batch in (RECORDS[:5], RECORDS[5:])]
    assert sorted(sent, key=json.dumps) == sorted(expected, key=json.dumps)
    for body in sent:  # byte for byte, not only equal after decoding
        user = body["messages"][1]["content"].encode("utf-8")
        assert user in {upstream_prompt(b).encode("utf-8") for b in (RECORDS[:5], RECORDS[5:])}
    _assert_verdicts_by_index(verdicts)


def test_gemini_judge_sends_upstreams_request_with_sdk_defaults(upstream_server, tmp_path,
                                                                monkeypatch):
    monkeypatch.chdir(_project_root())
    verdicts = _run(_judge(_upstream_judges()["gemini"], upstream_server), tmp_path)

    sent = upstream_server.all_bodies["gemini"]
    expected = [{"contents": [{"parts": [{"text": upstream_prompt(batch)}], "role": "user"}]}
                for batch in (RECORDS[:5], RECORDS[5:])]
    # generate_content(prompt): no systemInstruction, no generationConfig, nothing else
    assert sorted(sent, key=json.dumps) == sorted(expected, key=json.dumps)
    _assert_verdicts_by_index(verdicts)


def _assert_verdicts_by_index(verdicts):
    """Replies came back reversed: matched by index, each verdict is the right item's; the
    empty prediction was asked (and judged incorrect by the fake), not auto-incorrect."""
    by_id = {v["qa_id"]: v for v in verdicts}
    expected = {f"case_{i}.nii.gz::0": r["answer"].lower() == r["prediction"].lower()
                for i, r in enumerate(RECORDS)}
    assert {k: v["verdict"] == "correct" for k, v in by_id.items()} == expected
    assert "not sent" not in by_id["case_2.nii.gz::0"]["reason"]


def test_upstream_reply_reading_where_it_is_unsound():
    """Upstream zipped the reply list with the batch by position and, after a failed parse,
    fix_gemini_parse_errors.py applied the batch's first is_correct to every item. Here: by
    index: a reply whose numbers are not exactly the items asked fails the whole batch (a left-out
    item could be any of them), a null item is failed alone, an unreadable batch fails for all."""
    from ct_spatial_bench.judges.parsing import parse_batch

    reply = '[{"index": 2, "is_correct": true}, {"index": 1, "is_correct": false},]'
    first, second = parse_batch(reply, 2, "is_correct")
    assert (first.verdict, second.verdict) == ("incorrect", "correct")
    left_out = parse_batch(reply, 3, "is_correct")
    assert [j.verdict for j in left_out] == ["failed", "failed", "failed"]
    null = parse_batch('[{"index": 1, "is_correct": null}, {"index": 2, "is_correct": true}]',
                       2, "is_correct")
    assert [j.verdict for j in null] == ["failed", "correct"]
    broken = parse_batch('[{"index": 1, "is_correct": true} {"index": 2', 2, "is_correct")
    assert [j.verdict for j in broken] == ["failed", "failed"]


def _project_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def test_qwen_goes_to_dashscopes_openai_compatible_endpoint_with_the_dashscope_key():
    """evaluate_with_qwen.py: OpenAI(api_key=DASHSCOPE_API_KEY,
    base_url="https://dashscope.aliyuncs.com/compatible-mode/v1")."""
    from ct_spatial_bench.judges.registry import build_judges

    spec = _upstream_judges()["qwen"]
    (judge,) = build_judges([spec], api_keys={"dashscope": "dashscope-test-key-123"})
    assert judge.client.base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert judge.client.api_key == "dashscope-test-key-123"
    assert (judge.name, judge.model, judge.provider) == ("qwen", "qwen-plus", "qwen_openai")
    # the OpenAI key never goes there
    assert build_judges([spec], api_keys={"openai": "sk-openai-test-key-123"}) == []
