import json

import pytest

from ct_spatial_bench.curation.llm_client import (
    LLMConfig, ReplyCache, ReplyError, cached_json_reply, load_prompt, make_client,
    parse_json_object)


def _prompt(tmp_path, text="Say {word}."):
    (tmp_path / "echo_v1.yml").write_text(
        f"version: echo_v1\nsystem: You reply in JSON.\ntemplate: '{text}'\n")
    return load_prompt("echo_v1", tmp_path)


def test_prompt_version_carries_a_hash_of_the_file(tmp_path):
    first = _prompt(tmp_path)
    edited = _prompt(tmp_path, "Say {word}, please.")
    assert first.version.startswith("echo_v1@") and first.version != edited.version
    with pytest.raises(FileNotFoundError, match="available: \\['echo_v1'\\]"):
        load_prompt("missing", tmp_path)


def test_the_shipped_prompts_load():
    for name in ("qa_generation_v1", "spatial_filter_v1", "category_tagger_v1"):
        assert load_prompt(name).version.startswith(name)


def test_reply_is_cached_on_disk_and_not_asked_again(tmp_path, fake_openai, monkeypatch):
    server = fake_openai(lambda user: json.dumps({"said": user}))
    monkeypatch.setenv("TEST_LLM_KEY", "secret-key")
    config = LLMConfig(model="m", base_url=server.base_url, api_key_env="TEST_LLM_KEY")
    prompt, cache_path = _prompt(tmp_path), tmp_path / "cache.jsonl"
    client = make_client(config)
    value, info = cached_json_reply(client, config, ReplyCache(cache_path), prompt, "hello",
                                    lambda r: r["said"], word="hello")
    assert value == "Say hello." and info["cached"] is False
    assert info["tokens"] == {"prompt": 11, "completion": 7}
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    assert server.auth == ["Bearer secret-key"]
    # A new cache object on the same file (a rerun) answers without a request.
    value, info = cached_json_reply(client, config, ReplyCache(cache_path), prompt, "hello",
                                    lambda r: r["said"], word="hello")
    assert value == "Say hello." and info["cached"] is True and len(server.requests) == 1
    assert "secret-key" not in cache_path.read_text()


def test_an_invalid_reply_raises_and_is_not_cached(tmp_path, fake_openai):
    server = fake_openai(lambda user: "not json at all")
    config = LLMConfig(model="m", base_url=server.base_url, api_key_env=None)
    cache = ReplyCache(tmp_path / "cache.jsonl")
    with pytest.raises(ReplyError, match="no JSON object"):
        cached_json_reply(make_client(config), config, cache, _prompt(tmp_path), "x",
                          lambda r: r, word="x")
    assert len(cache) == 0 and not (tmp_path / "cache.jsonl").exists()


def test_a_truncated_cache_line_is_skipped(tmp_path):
    path = tmp_path / "cache.jsonl"
    cache = ReplyCache(path)
    cache.put("k1", {"reply": "{}", "info": {}})
    with open(path, "a") as handle:
        handle.write('{"key": "k2", "rep')  # a crash mid-write
    assert ReplyCache(path).get("k1") is not None and len(ReplyCache(path)) == 1


def test_missing_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(RuntimeError, match="set NO_SUCH_KEY_VAR"):
        make_client(LLMConfig(model="m", api_key_env="NO_SUCH_KEY_VAR"))


def test_json_inside_a_code_fence_is_read():
    assert parse_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    with pytest.raises(ReplyError):
        parse_json_object("[1, 2]")
