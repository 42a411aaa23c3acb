"""No key in any output, even when the server echoes it (before: 55 copies in report.html).

The key here is shaped like no provider's (no ``sk-`` prefix), so only redaction by value can
catch it; the server echoes it whole in its 401 body, or partly masked as OpenAI does."""

from __future__ import annotations

import logging

import pytest
from reliability_helpers import judge_config, qa_and_predictions

KEY = "zq-live-Q9x8W7v6U5t4S3r2p1"
MARKS = (KEY, KEY[:12], KEY[-8:])  # the key, and any long run of it


def _leaks(text: str) -> list[str]:
    return [mark for mark in MARKS if mark in text]


@pytest.mark.parametrize("echo", ["full", "masked"])
def test_an_echoed_key_reaches_no_record_log_or_report(server, tmp_path, monkeypatch, caplog,
                                                       capfd, echo):
    from ct_spatial_bench.datasets import JsonLinesDataset
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import JudgeFailedError, judge_predictions
    from ct_spatial_bench.secrets import install_log_redaction

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server.echo_key = echo
    caplog.set_level(logging.DEBUG)
    install_log_redaction()  # what the project's hook does once Kedro has set up logging
    items, preds = qa_and_predictions(6)
    # A model call that failed the same way upstream (the runner's error field, before it was
    # redacted at the source): the records and the report must not show it either.
    preds[1].update(status="error", error=f"AuthenticationError: Incorrect API key: {KEY}")
    judge = create_judge("openai", judge_config(server, api_key=KEY))
    verdicts = judge_predictions([judge], items, preds, progress=False,
                                 cache_path=tmp_path / "cache.sqlite")
    # The server's own count: the first 401 stops the judge (only the calls already in flight
    # were sent), and it did receive and echo the key.
    assert 1 <= server.requests <= 4 and set(server.keys_seen) == {KEY}
    assert {v["verdict"] for v in verdicts} == {"failed"}
    with pytest.raises(JudgeFailedError) as stopped:
        judge_predictions([create_judge("openai", judge_config(server, api_key=KEY))], items,
                          preds, progress=False, stop_if_a_judge_never_replied=True)
    JsonLinesDataset(str(tmp_path / "verdicts.jsonl")).save(verdicts)
    JsonLinesDataset(str(tmp_path / "predictions.jsonl")).save(preds)
    report = _report(items, preds, verdicts)
    (tmp_path / "report.html").write_text(report)

    outputs = {path.name: path.read_bytes().decode("utf-8", "replace")
               for path in tmp_path.iterdir() if path.is_file()}
    out, err = capfd.readouterr()
    outputs.update(console=out + err, log=caplog.text, error=str(stopped.value))
    assert {name: _leaks(text) for name, text in outputs.items() if _leaks(text)} == {}
    assert "<redacted>" in outputs["verdicts.jsonl"] and "<redacted>" in outputs["report.html"]


def _report(items, preds, verdicts) -> str:
    from ct_spatial_bench.judges.jury import jury_decisions
    from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model
    from ct_spatial_bench.metrics.text import per_item_text_metrics, text_metrics_summary
    from ct_spatial_bench.reporting.report import full_html_report

    decisions = jury_decisions(verdicts, rule="majority")
    per_item = per_item_text_metrics(items, preds, sbert=False)
    return full_html_report(
        qa_items=items, predictions=preds, verdicts=verdicts, decisions=decisions,
        accuracy_rows=accuracy_by_model(items, preds, decisions, n_boot=20),
        text_summary_rows=text_metrics_summary(per_item, items, preds), per_item_rows=per_item,
        category_rows=accuracy_by_category(items, decisions, preds, n_boot=20),
        agreement_rows=[], interval_rows=[], paired_rows=[],
        run_info={"error": preds[1]["error"]})


def test_the_credentials_key_goes_only_to_the_providers_own_host(server, monkeypatch):
    """Before: openai_vlm sent OPENAI_API_KEY to any base_url (a vLLM server got it)."""
    from ct_spatial_bench.judges.registry import build_judges
    from ct_spatial_bench.models.adapters.openai_vlm import OpenAIVisionLanguageModel

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MY_VLLM_KEY", "vllm-key-0123456789")
    for config in ({}, {"api_key_env": "OPENAI_API_KEY"}, {"api_key_env": "MY_VLLM_KEY"}):
        model = OpenAIVisionLanguageModel()
        model.load({"model": "served", "base_url": server.urls["openai"], "max_retries": 0,
                    **config})
        with pytest.raises(Exception):  # the fake server takes only its own test key: a 401
            model.client.chat.completions.create(
                model="served", messages=[{"role": "user", "content": "hello"}])
    # The server's own record of what it was sent: no key, then the one named for it.
    assert server.keys_seen == ["not-needed", "not-needed", "vllm-key-0123456789"]

    # A judge on the openai provider pointed elsewhere gets no credentials key either...
    assert build_judges([{"name": "openai", "config": {"base_url": server.urls["openai"]}}],
                        {"openai": KEY}) == []
    # ...unless its config names one for that server; at its own host it gets the credentials'.
    (named,) = build_judges([{"name": "openai", "config": {"base_url": server.urls["openai"],
                                                            "api_key_env": "MY_VLLM_KEY"}}],
                            {"openai": KEY})
    (own,) = build_judges([{"name": "openai", "config": {
        "base_url": "https://api.openai.com/v1"}}], {"openai": KEY})
    assert (named.client.api_key, own.client.api_key) == ("vllm-key-0123456789", KEY)
