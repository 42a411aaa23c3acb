"""Garbage that opens with a verdict word is no verdict (before: 60 items read as incorrect, 31
of them truly correct, cached for good; "Yes, I can help with that!" read as correct)."""

from __future__ import annotations

import pytest
from reliability_helpers import judge_config

GARBAGE = {
    "upstream": "No response from upstream model (error 502)",
    "offer": "Yes, I can help with that!",
    "apology": "I'm sorry, but I can't assist with that request.",
    "markdown": "**",
    "empty": "",
    "noise": "Yesterday the model was busy.",
}


def _items():
    items = [{"qa_id": f"c::{name}", "case_id": "c", "image_path": "", "question": f"Where {name}?",
              "answer": "left lung", "categories": [], "source": "t", "meta": {}}
             for name in GARBAGE]
    # Every prediction is right: a garbage reply read as NO would mis-score each one.
    preds = [{"qa_id": f"c::{name}", "model": "m", "prediction": f"left lung {name}",
              "status": "ok", "error": None} for name in GARBAGE]
    return items, preds


def _replying(server, replies):
    """The server answers ``replies[subject]`` for the prediction named in the prompt."""
    def answer(user: str):
        subject = user.split("Prediction: ", 1)[1].split("\n", 1)[0]
        return subject, replies[subject.rsplit(" ", 1)[-1]]
    server.answer = answer


def test_garbage_is_failed_and_asked_again_only_on_refresh(server, tmp_path):
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = _items()
    cache = tmp_path / "cache.sqlite"
    _replying(server, GARBAGE)
    judge = create_judge("openai", judge_config(server, prompt="radiologist_yes_no_v1"))
    verdicts = judge_predictions([judge], items, preds, cache_path=cache, progress=False)
    assert {v["qa_id"]: v["verdict"] for v in verdicts} == {f"c::{n}": "failed" for n in GARBAGE}
    assert verdicts[0]["raw"] == GARBAGE["upstream"]  # the raw reply is kept
    assert server.requests == len(GARBAGE)

    # A rerun pays nothing; refresh="failed" asks each failed item once more, now answered YES.
    judge_predictions([judge], items, preds, cache_path=cache, progress=False)
    assert server.requests == len(GARBAGE)
    _replying(server, dict.fromkeys(GARBAGE, "YES"))
    again = judge_predictions([judge], items, preds, cache_path=cache, progress=False,
                              refresh="failed")
    assert {v["verdict"] for v in again} == {"correct"}
    assert server.requests == 2 * len(GARBAGE)


def test_a_stricter_parser_rereads_cached_replies_without_paying(server, tmp_path):
    """A cache written by the old parser (it stored "No response ..." as incorrect) is read again
    from its raw replies: the verdicts change, the server is not asked."""
    from ct_spatial_bench.judges.cache import VerdictCache
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.planning import task_of
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = _items()
    cache = tmp_path / "cache.sqlite"
    judge = create_judge("openai", judge_config(server, prompt="radiologist_yes_no_v1"))
    old_reading = {"upstream": "incorrect", "offer": "correct", "apology": "failed",
                   "markdown": "failed", "empty": "failed", "noise": "failed"}
    with VerdictCache(cache) as store:
        for (name, raw), item, pred in zip(GARBAGE.items(), items, preds):
            store.put(task_of(judge, item, pred).key, judge.provider, judge.model,
                      judge.prompt_version, verdict=old_reading[name], reason="old parser",
                      raw=raw, tokens={}, latency_s=0.1, parser_version="")
    verdicts = judge_predictions([judge], items, preds, cache_path=cache, progress=False)
    assert server.requests == 0
    assert {v["verdict"] for v in verdicts} == {"failed"}


@pytest.mark.parametrize("status, text, verdict, reason", [
    ("error", "", "failed", "prediction error"),
    ("ok", "   ", "incorrect", "empty prediction"),
])
def test_errors_and_empty_predictions_are_not_sent_to_paid_judges(server, status, text,
                                                                   verdict, reason):
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = _items()
    preds[0].update(status=status, prediction=text, error="TimeoutError" if status else None)
    _replying(server, dict.fromkeys(GARBAGE, "YES"))
    verdicts = judge_predictions([create_judge("openai", judge_config(server))], items[:1],
                                 preds[:1], progress=False)
    assert (verdicts[0]["verdict"], verdicts[0]["reason"].split(":")[0]) == (verdict, reason)
    assert server.requests == 0
