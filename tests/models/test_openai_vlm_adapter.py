"""openai_vlm against a fake OpenAI-compatible server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.openai_vlm import OpenAIVisionLanguageModel
from ct_spatial_bench.models.common import ModelNotConfigured

SLICES = InputSpec("s", orientation="LPI", slices=3, axis_order="zyx", output="npy",
                   rgb_windows=((-1000, 1000),) * 3)


@pytest.fixture
def fake_server():
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({"path": self.path, "body": body,
                             "auth": self.headers.get("Authorization")})
            reply = {"id": "x", "object": "chat.completion", "created": 0, "model": "served-1",
                     # the API's reason for stopping: max_tokens ran out for an "essay"
                     "choices": [{"index": 0, "finish_reason":
                                  "length" if "essay" in json.dumps(body) else "stop",
                                  "message": {"role": "assistant", "content": " Right lung. "}}],
                     "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    server.shutdown()


def test_asks_the_endpoint_with_inline_slices_at_temperature_zero(fake_server, ras_volume,
                                                                  monkeypatch):
    base_url, requests = fake_server
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
    assert "sk-test-secret" not in json.dumps(pred)
    assert pred["prompt"].count("<image>") == 3
    assert pred["efficiency"]["served_model"] == "served-1"


def test_without_a_model_name_it_says_what_to_set():
    with pytest.raises(ModelNotConfigured, match="openai_vlm.inference.config.model"):
        OpenAIVisionLanguageModel().load({})


def test_a_volumes_questions_open_with_the_same_bytes(fake_server, ras_volume):
    """vLLM's prefix cache reuses a prefix only when the request opens with the same tokens:
    the instruction and the slices must be identical in every request of a volume."""
    from ct_spatial_bench.models.base import Question

    base_url, requests = fake_server
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
    base_url, _ = fake_server
    monkeypatch.setenv("FAKE_KEY", "sk-test-secret")
    adapter = OpenAIVisionLanguageModel()
    adapter.load({"model": "gpt-4o", "base_url": base_url, "api_key_env": "FAKE_KEY"})
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "Which lung?"},
             {"qa_id": "v::1", "image_path": "v.nii.gz", "question": "Write an essay."}]
    short, cut = run_model(adapter, items, lambda _: apply_spec(ras_volume, SLICES), {},
                           progress=False)
    assert short["hit_token_limit"] is False and cut["hit_token_limit"] is True
