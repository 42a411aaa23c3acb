"""openai_vlm against the fake server on 127.0.0.1 (tests/support/fake_llm_server.py), which
answers its vision requests as a served VLM."""

import json

import pytest

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.openai_vlm import OpenAIVisionLanguageModel
from ct_spatial_bench.models.common import ModelNotConfigured

SLICES = InputSpec("s", orientation="LPI", slices=3, axis_order="zyx", output="npy",
                   rgb_windows=((-1000, 1000),) * 3)


def test_asks_the_endpoint_with_inline_slices_at_temperature_zero(fake_server, ras_volume,
                                                                  monkeypatch):
    base_url, requests = fake_server.urls["openai"], fake_server.vlm_requests
    fake_server.vlm_script = {"Which lung?": " Right lung. "}
    monkeypatch.setenv("FAKE_KEY", "sk-test-secret")
    adapter = OpenAIVisionLanguageModel()
    adapter.load({"model": "gpt-4o", "base_url": base_url, "api_key_env": "FAKE_KEY"})
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "Which lung?"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(ras_volume, SLICES), {},
                       progress=False)
    assert pred["prediction"] == "Right lung." and pred["status"] == "ok"
    body = requests[0]["body"]
    assert body["model"] == "gpt-4o" and body["temperature"] == 0.0
    parts = body["messages"][0]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert len(urls) == 3 and all(u.startswith("data:image/png;base64,") for u in urls)
    assert parts[-1]["text"] == "Which lung?"
    assert requests[0]["auth"] == "Bearer sk-test-secret"
    assert "sk-test-secret" not in json.dumps(pred.to_dict())
    assert pred["prompt"].count("<image>") == 3
    assert pred["efficiency"]["served_model"] == fake_server.served_model != "gpt-4o"


def test_without_a_model_name_it_says_what_to_set():
    with pytest.raises(ModelNotConfigured, match="openai_vlm.inference.config.model"):
        OpenAIVisionLanguageModel().load({})


def test_a_volumes_questions_open_with_the_same_bytes(fake_server, ras_volume):
    """vLLM's prefix cache reuses a prefix only when the request opens with the same tokens:
    the instruction and the slices must be identical in every request of a volume."""
    from ct_spatial_bench.models.base import Question

    base_url, requests = fake_server.urls["openai"], fake_server.vlm_requests
    adapter = OpenAIVisionLanguageModel()
    adapter.load({"model": "m", "base_url": base_url})
    answers = list(adapter.answer_volume(apply_spec(ras_volume, SLICES),
                                         [Question("a", "Which lung?"), Question("b", "Is it big?")]))
    first, second = (r["body"]["messages"][0]["content"] for r in requests)
    assert first[:-1] == second[:-1] and len(first) == 5  # instruction + 3 slices, then:
    assert (first[-1]["text"], second[-1]["text"]) == ("Which lung?", "Is it big?")
    assert [(a.prompt_tokens, a.new_tokens) for a in answers] == [(11, 2), (11, 2)]


def test_the_apis_finish_reason_says_whether_the_answer_was_cut(fake_server, ras_volume,
                                                                 monkeypatch):
    """finish_reason "length" (max_tokens ran out) is hit_token_limit true, "stop" false."""
    base_url = fake_server.urls["openai"]
    fake_server.vlm_cut = {"Write an essay."}
    monkeypatch.setenv("FAKE_KEY", "sk-test-secret")
    adapter = OpenAIVisionLanguageModel()
    adapter.load({"model": "gpt-4o", "base_url": base_url, "api_key_env": "FAKE_KEY"})
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "Which lung?"},
             {"qa_id": "v::1", "image_path": "v.nii.gz", "question": "Write an essay."}]
    short, cut = run_model(adapter, items, lambda _: apply_spec(ras_volume, SLICES), {},
                           progress=False)
    assert short["hit_token_limit"] is False and cut["hit_token_limit"] is True
