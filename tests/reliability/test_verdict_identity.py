"""Issue 21: a verdict belongs to its judge and to its item.

Two OpenAI-compatible judges on different servers, both ``model: default``, gave opposite verdicts
and then, on a rerun with 0 calls, one shared mixture. Here two fake servers answer oppositely;
each judge must keep its own verdicts on the rerun. A batch's verdicts must reach their items by
key, wherever an errored item sits in the chunk.
"""

from __future__ import annotations

import pytest
from reliability_helpers import GOOD_KEY, FakeLLMServer, qa_and_predictions


@pytest.fixture
def two_servers():
    first, second = FakeLLMServer().start(), FakeLLMServer().start()
    # the second server contradicts: it answers the opposite of the first
    second.answer = lambda user: (user.split("Prediction: ", 1)[1].split("\n", 1)[0],
                                  "NO" if _is_right(user) else "YES")
    yield first, second
    first.stop()
    second.stop()


def _is_right(user: str) -> bool:
    ref = user.split("Reference answer: ", 1)[1].split("\n", 1)[0]
    pred = user.split("Prediction: ", 1)[1].split("\n", 1)[0]
    return ref.strip().lower() == pred.strip().lower()


def _judges(first, second):
    from ct_spatial_bench.judges.registry import create_judge

    return [create_judge("openai_compatible", {
        "name": name, "model": "default", "base_url": server.urls["openai"], "api_key": GOOD_KEY,
        "prompt": "radiologist_yes_no_v1", "backoff_base_s": 0.01, "timeout_s": 2.0})
        for name, server in (("local_a", first), ("local_b", second))]


def test_two_judges_with_one_model_name_never_share_a_row(two_servers, tmp_path):
    from ct_spatial_bench.judges.engine import judge_predictions

    first, second = two_servers
    items, preds = qa_and_predictions(6)
    cache = tmp_path / "cache.sqlite"
    runs = []
    for _ in range(2):  # the first run pays, the rerun reads the cache only
        verdicts = judge_predictions(_judges(first, second), items, preds, cache_path=cache,
                                     progress=False)
        runs.append({(v["judge"], v["qa_id"]): v["verdict"] for v in verdicts})
    # expected from the scenario: prediction i is wrong when i % 3 == 0 (qa_and_predictions)
    truth = {f"c::{i}": "incorrect" if i % 3 == 0 else "correct" for i in range(6)}
    opposite = {"correct": "incorrect", "incorrect": "correct"}
    for by_key in runs:
        assert {q: by_key[("local_a", q)] for q in truth} == truth
        assert {q: by_key[("local_b", q)] for q in truth} == {q: opposite[v]
                                                              for q, v in truth.items()}
    assert first.requests == 6 and second.requests == 6  # the rerun made no call


def test_a_jury_of_one_judge_twice_is_refused_naming_both(tmp_path):
    from ct_spatial_bench.judges.cache import DuplicateJudgeError
    from ct_spatial_bench.judges.registry import build_judges
    from ct_spatial_bench.judges.engine import judge_predictions

    config = {"model": "default", "base_url": "http://127.0.0.1:9/v1"}
    judges = build_judges([
        {"name": "openai_compatible", "config": {**config, "name": "first"}},
        {"name": "openai_compatible", "config": {**config, "name": "second",
                                                 "base_url": "HTTP://127.0.0.1:9/v1/"}}])
    items, preds = qa_and_predictions(1)
    with pytest.raises(DuplicateJudgeError, match="'first' and 'second'"):
        judge_predictions(judges, items, preds, cache_path=tmp_path / "c.sqlite",
                          progress=False)


class _EchoBatchJudge:
    """A batched judge whose verdict is read off the prediction text, so a verdict joined to the
    wrong item shows."""

    name, model, prompt_version = "echo", "echo-v1", "v1"
    batched, cached = True, False

    def judge_batch(self, items):
        from ct_spatial_bench.judges.base import Judgement

        return [Judgement("correct" if p.endswith("good") else "incorrect") for _, _, p in items]


@pytest.mark.parametrize("errored_at", [0, 2, 4])
def test_a_batch_verdict_reaches_its_item_wherever_the_errored_one_sits(errored_at):
    """The bite: joining a chunk's verdicts by position puts each verdict after the errored item
    on its neighbour (every older test had the errored item last)."""
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = qa_and_predictions(6)
    for i, pred in enumerate(preds):
        pred["prediction"] = "good" if i % 2 else "bad"
    preds[errored_at].update(status="error", error="CUDA out of memory", prediction="")
    verdicts = judge_predictions([_EchoBatchJudge()], items, preds, progress=False)
    got = {v["qa_id"]: v["verdict"] for v in verdicts}
    expected = {f"c::{i}": ("failed" if i == errored_at else
                            "correct" if i % 2 else "incorrect") for i in range(6)}
    assert got == expected


def test_an_llm_batch_numbered_from_zero_fails_every_item_it_answered(tmp_path):
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    server = FakeLLMServer().start()
    try:
        from reliability_helpers import judge_config

        judge = create_judge("openai", judge_config(server, prompt="radiologist_batch_v1"))
        items, preds = qa_and_predictions(3)
        preds[1]["prediction"] += " [[zero]]"
        verdicts = judge_predictions([judge], items, preds, progress=False)
    finally:
        server.stop()
    assert [v["verdict"] for v in verdicts] == ["failed"] * 3
    assert all("not exactly 1..3" in v["reason"] for v in verdicts)


def test_the_report_states_which_prompt_judged():
    from ct_spatial_bench.pipelines.reporting.nodes import describe_run

    verdicts = [{"judge": "openai", "judge_model": "gpt-4o", "model": "m", "qa_id": "q",
                 "verdict": "correct", "prompt_version": "radiologist_structured_v1@abcd1234"},
                {"judge": "rule", "judge_model": "rule-v1", "model": "m", "qa_id": "q",
                 "verdict": "correct", "prompt_version": "rule-v1"}]
    info = describe_run([], [], verdicts, [], {})
    assert info["judge_prompts"] == ("openai: radiologist_structured_v1@abcd1234, "
                                     "rule: rule-v1")
