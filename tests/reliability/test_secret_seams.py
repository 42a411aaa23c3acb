"""Issue 21: keys never leave the process, whatever set the URL and whatever the key looks like.

Before: the SDKs' own base-URL variables sent the provider keys anywhere; a key under a name
without API_KEY/TOKEN/SECRET/PASSWORD, or under 8 characters, was never redacted; ``--params``
keys reached the manifest; ``user:password@`` in a base_url reached predictions and checkpoints.
"""

from __future__ import annotations

import json
import stat

import pytest
from reliability_helpers import GOOD_KEY

SDK_URL_VARIABLES = [("openai", "OPENAI_BASE_URL", "openai", "OPENAI_API_KEY"),
                     ("gemini", "GOOGLE_GEMINI_BASE_URL", "gemini", "GEMINI_API_KEY"),
                     ("qwen", "DASHSCOPE_HTTP_BASE_URL", "dashscope", "DASHSCOPE_API_KEY")]


@pytest.mark.parametrize("provider, variable, entry, key_variable", SDK_URL_VARIABLES)
def test_the_sdk_base_url_variable_cannot_take_the_key_elsewhere(
        provider, variable, entry, key_variable, server, monkeypatch, caplog):
    """The variable names are the installed SDKs' own (openai/lib/_client_auth.py,
    google/genai/_base_url.py, dashscope/common/env.py)."""
    from ct_spatial_bench.judges.registry import build_judges

    monkeypatch.setenv(variable, server.urls[provider])
    judges = build_judges([provider], {entry: GOOD_KEY})
    assert judges == []  # skipped: its key would have gone to 127.0.0.1
    assert variable in caplog.text and "127.0.0.1" in caplog.text
    assert server.keys_seen == []


def test_the_url_checked_is_the_url_called(server, monkeypatch):
    """Named for that server (api_key_env), the judge calls exactly the URL the rule checked."""
    from ct_spatial_bench.judges.registry import build_judges
    from ct_spatial_bench.judges.engine import judge_predictions
    from reliability_helpers import qa_and_predictions

    monkeypatch.setenv("OPENAI_BASE_URL", server.urls["openai"])
    monkeypatch.setenv("PROXY_KEY", GOOD_KEY)
    (judge,) = build_judges([{"name": "openai", "config": {"api_key_env": "PROXY_KEY",
                                                           "backoff_base_s": 0.01}}])
    assert judge.client.base_url == server.urls["openai"]
    items, preds = qa_and_predictions(1)
    judge_predictions([judge], items, preds, progress=False)
    assert server.keys_seen == [GOOD_KEY]


@pytest.mark.parametrize("key", ["k9Zq", "z7-short", "twelve-chars", "a-key-of-twenty-chars!"])
def test_a_key_named_by_any_api_key_env_is_redacted_whatever_its_name_and_length(
        key, monkeypatch):
    """The bite: redaction limited to keys of 20+ (or 8+) characters fails here."""
    from ct_spatial_bench.llm.providers import with_api_key
    from ct_spatial_bench.secrets import REDACTED, redact, redact_text

    monkeypatch.setenv("MYSRV", key)  # a name with no API_KEY/TOKEN/SECRET/PASSWORD in it
    with_api_key("openai_compatible", {"base_url": "http://127.0.0.1:9/v1",
                                       "api_key_env": "MYSRV"}, {})
    assert redact_text(f"401: key {key} rejected") == f"401: key {REDACTED} rejected"
    assert key not in json.dumps(redact({"error": f"sent {key}", "nested": [key]}))


def test_credentials_in_a_url_are_removed_before_it_is_stored(monkeypatch):
    from ct_spatial_bench.llm.providers import create_client
    from ct_spatial_bench.models.adapters.openai_vlm import OpenAIVisionLanguageModel
    from ct_spatial_bench.secrets import redact_text

    url = "http://alice:s3cr@127.0.0.1:9/v1"
    client = create_client("openai_compatible", {"base_url": url, "model": "m"})
    assert client.settings()["base_url"] == "http://127.0.0.1:9/v1"
    assert "s3cr" not in repr(client)
    assert redact_text(f"GET {url}/chat failed; the password s3cr") == \
        "GET http://127.0.0.1:9/v1/chat failed; the password <redacted>"
    model = OpenAIVisionLanguageModel()
    model.load({"model": "served", "base_url": url, "api_key_env": "NONE_SET"})
    assert model._revision == "served@http://127.0.0.1:9/v1"


def test_a_checkpoint_row_never_holds_a_url_password(tmp_path):
    from ct_spatial_bench.inference.checkpoint import append_rows

    path = tmp_path / "ck.jsonl"
    append_rows(path, [{"qa_id": "q", "model_revision": "m@https://bob:hunter22@h.example/v1"}])
    assert "hunter22" not in path.read_text() and "bob" not in path.read_text()


def test_params_given_as_keys_are_redacted_by_value_in_the_manifest():
    from ct_spatial_bench.provenance import command_line, register_run_secrets
    from ct_spatial_bench.secrets import redact

    argv = ["kedro", "run", "--params", "judging.judges.0.config.api_key=q7,x=1"]
    register_run_secrets({"judging": {"judges": [{"config": {"token": "tok-42"}}]}}, argv)
    # a run that stops early: its error text repeats the value under no key-like name
    manifest = redact({"command": command_line(argv), "error": "bad key q7 for tok-42"})
    text = json.dumps(manifest)
    assert "q7" not in text and "tok-42" not in text and "x=1" in text


def test_the_worker_output_is_redacted(tmp_path, monkeypatch, capfd):
    """A runtime.python worker that prints and returns the key it was given (named by an
    api_key_env with an ordinary name): neither its replies nor its stderr keep it."""
    from ct_spatial_bench.inference.backends.worker import RemoteAdapter

    monkeypatch.setenv("VLLM_SRV", "w0rk")
    fake_python = tmp_path / "python"
    fake_python.write_text(
        "#!/bin/sh\nread line\necho \"loading with key $VLLM_SRV\" >&2\n"
        "echo '{\"ok\": true, \"describe\": {\"model_revision\": \"rev '\"$VLLM_SRV\"'\"}}'\n"
        "read line\n")
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IEXEC)
    adapter = RemoteAdapter("served", None, str(fake_python))
    adapter.load({"model": "x", "api_key_env": "VLLM_SRV"})
    described = json.dumps(adapter.describe())
    adapter.close()  # the worker exits, its stderr ends
    adapter._stderr.join(5)
    assert "rev <redacted>" in described
    err = capfd.readouterr().err
    assert "loading with key <redacted>" in err and "w0rk" not in err
