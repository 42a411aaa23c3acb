import logging
import sqlite3

import pytest
from support.fake_llm_server import GOOD_KEY, PROTOCOL, llm_settings

from ct_spatial_bench.curation.llm_client import (
    ReplyError,
    curation_llm,
    json_replies,
    load_prompt,
    parse_json_object,
)

FILTER = "spatial_filter_v1"


def _prompt(tmp_path, text="Say {word}."):
    (tmp_path / "echo_v1.yml").write_text(
        f"version: echo_v1\nsystem: You reply in JSON.\ntemplate: '{text}'\n")
    return load_prompt("echo_v1", tmp_path)


def _fields(*questions):
    return {f"c::{i}": {"question": q, "answer": "The right upper lobe.", "categories": "-"}
            for i, q in enumerate(questions)}


def _is_spatial(reply):
    if not isinstance(reply.get("is_spatial"), bool):
        raise ReplyError("no boolean 'is_spatial'")
    return reply["is_spatial"]


def test_prompt_version_carries_a_hash_of_the_file(tmp_path):
    first = _prompt(tmp_path)
    edited = _prompt(tmp_path, "Say {word}, please.")
    assert first.version.startswith("echo_v1@") and first.version != edited.version
    assert first.render(word="hi") == ("You reply in JSON.", "Say hi.")
    with pytest.raises(FileNotFoundError, match="available: \\['echo_v1'\\]"):
        load_prompt("missing", tmp_path)


def test_the_shipped_prompts_load():
    for name in ("qa_generation_v1", "spatial_filter_v1", "category_tagger_v1"):
        assert load_prompt(name).version.startswith(name)


def test_json_inside_a_code_fence_is_read():
    assert parse_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    with pytest.raises(ReplyError):
        parse_json_object("[1, 2]")


@pytest.mark.parametrize("provider", ["openai", "gemini", "qwen"])
def test_replies_are_cached_in_sqlite_and_a_rerun_calls_nothing(provider, make_llm,
                                                               fake_server, tmp_path):
    llm, cache = make_llm(provider), tmp_path / "replies.sqlite"
    fields = _fields("Which lobe?", "Is it large?", "Which lobe?")  # the third repeats the first
    replies = json_replies(llm, load_prompt(FILTER), fields, _is_spatial, cache, "test",
                           progress=False)
    assert {k: r.value for k, r in replies.items()} == {"c::0": True, "c::1": False,
                                                       "c::2": True}
    assert fake_server.requests == 2 and not replies["c::0"].cached
    assert replies["c::0"].tokens["total"] > 0
    db = sqlite3.connect(cache)
    assert db.execute("SELECT provider, prompt_version FROM replies").fetchall() == [
        (provider, load_prompt(FILTER).version)] * 2
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    again = json_replies(make_llm(provider), load_prompt(FILTER), fields, _is_spatial, cache,
                         "test", progress=False)
    assert fake_server.requests == 2  # a rerun makes zero calls
    assert {k: r.value for k, r in again.items()} == {k: r.value for k, r in replies.items()}
    assert all(r.cached for r in again.values())
    assert GOOD_KEY.encode() not in cache.read_bytes()


def test_json_mode_reaches_each_sdk_request(make_llm, fake_server):
    for provider in ("openai", "gemini", "qwen"):
        json_replies(make_llm(provider), load_prompt(FILTER), _fields("Which lobe?"),
                     _is_spatial, None, "test", progress=False)
    bodies = fake_server.bodies
    assert bodies["openai"]["response_format"] == {"type": "json_object"}
    assert bodies["gemini"]["generationConfig"]["responseMimeType"] == "application/json"
    assert bodies["dashscope"]["parameters"]["response_format"] == {"type": "json_object"}
    assert bodies["openai"]["max_tokens"] == 500  # the step's reply budget


def test_an_invalid_reply_is_an_item_error_and_asked_again_next_run(make_llm, fake_server,
                                                                   tmp_path, caplog):
    cache, bad = tmp_path / "replies.sqlite", "Which lobe? [[garbagex1]]"
    fields = _fields("Which side?", bad)
    with caplog.at_level(logging.ERROR):
        replies = json_replies(make_llm("qwen"), load_prompt(FILTER), fields, _is_spatial,
                               cache, "qa_filtering spatial filter", item_kind="QA item",
                               progress=False)
    assert replies["c::0"].value is False and replies["c::0"].error is None
    assert replies["c::1"].value is None and "no JSON object" in replies["c::1"].error
    assert "qa_filtering spatial filter: QA item c::1: ReplyError" in caplog.text
    assert fake_server.requests == 2
    again = json_replies(make_llm("qwen"), load_prompt(FILTER), fields, _is_spatial, cache,
                         "test", progress=False)
    assert fake_server.requests == 3  # only the invalid one, asked again
    assert again["c::1"].value is True and not again["c::1"].cached and again["c::0"].cached
    json_replies(make_llm("qwen"), load_prompt(FILTER), fields, _is_spatial, cache, "test",
                 progress=False)
    assert fake_server.requests == 3


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_429_waits_for_retry_after(provider, make_llm, fake_server):
    question = "Which lobe? [[429x1]]"
    replies = json_replies(make_llm(provider), load_prompt(FILTER), _fields(question),
                           _is_spatial, None, "test", progress=False)
    assert replies["c::0"].value is True
    times = fake_server.times[(PROTOCOL[provider], f"filter: {question}")]
    # Retry-After: 1 second, against a backoff of at most 0.05 s: the server's wait wins.
    assert len(times) == 2 and times[1] - times[0] >= 0.95


def test_rejected_key_stops_the_step_without_paying_per_item(fake_server):
    settings = llm_settings(fake_server, "openai", concurrency=1, api_key="wrong-key")
    llm = curation_llm(settings, {"openai": "wrong-key"}, "test", "nothing")
    replies = json_replies(llm, load_prompt(FILTER), _fields(*[f"Q{i}?" for i in range(5)]),
                           _is_spatial, None, "test", progress=False)
    assert all(r.error and "401" in r.error for r in replies.values())
    assert fake_server.requests == 1


def test_a_provider_without_its_key_falls_back_with_a_warning_naming_it(caplog):
    settings = {"provider": "gemini", "config": {"model": "gemini-2.5-flash"}}
    with caplog.at_level(logging.WARNING):
        llm = curation_llm(settings, {"openai": "sk-secret"}, "qa_filtering", "the rules")
    assert llm is None
    assert "'gemini'" in caplog.text and "GEMINI_API_KEY" in caplog.text
    assert "falling back to the rules" in caplog.text and "sk-secret" not in caplog.text


def test_outdated_or_misspelt_settings_are_refused():
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['api_key_env', 'model'\]"):
        curation_llm({"model": "gpt-4o", "api_key_env": "OPENAI_API_KEY"}, {}, "qa_generation",
                     "templates")
    with pytest.raises(ValueError, match="no 'provider'"):
        curation_llm({"config": {}}, {}, "qa_generation", "templates")
    with pytest.raises(KeyError, match="unknown LLM provider 'claude'"):
        curation_llm({"provider": "claude"}, {}, "qa_generation", "templates")
