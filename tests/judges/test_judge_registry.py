import logging

import pytest

from ct_spatial_bench.judges.planning import format_plan, plan_judging, token_usage
from ct_spatial_bench.judges.registry import MissingJudgeKeyError, build_judges

SPECS = ["rule", "openai", {"name": "gemini", "config": {"model": "gemini-2.5-pro"}}, "qwen"]


def test_judge_without_key_is_skipped_with_a_warning_naming_it(caplog):
    with caplog.at_level(logging.WARNING):
        judges = build_judges(SPECS, {"openai": "sk-secret", "gemini": None})
    assert [j.name for j in judges] == ["rule", "openai"]
    assert "'gemini'" in caplog.text and "GEMINI_API_KEY" in caplog.text
    assert "'qwen'" in caplog.text and "DASHSCOPE_API_KEY" in caplog.text
    assert "sk-secret" not in caplog.text and "sk-secret" not in repr(judges)


def test_require_all_judges_makes_a_missing_key_an_error():
    with pytest.raises(MissingJudgeKeyError, match="'qwen'.*DASHSCOPE_API_KEY"):
        build_judges(SPECS, {"openai": "k", "gemini": "k"}, require_all=True)


def test_config_reaches_the_judge():
    (judge,) = build_judges([{"name": "gemini", "config": {"model": "gemini-2.5-pro",
                                                           "name": "gemini_pro"}}], {"gemini": "k"})
    assert (judge.name, judge.model, judge.provider) == ("gemini_pro", "gemini-2.5-pro", "gemini")
    (local,) = build_judges([{"name": "openai_compatible",
                              "config": {"model": "llama", "base_url": "http://127.0.0.1:1/v1"}}])
    assert local.provider == "openai_compatible" and local.client.api_key == "EMPTY"
    with pytest.raises(ValueError, match="base_url"):
        build_judges([{"name": "openai_compatible", "config": {"model": "llama"}}])


def test_dry_run_plan_counts_calls_and_tokens(tmp_path):
    judges = build_judges(["rule", "openai", {"name": "qwen", "config": {
        "prompt": "radiologist_batch_v1"}}], {"openai": "k", "dashscope": "k"})
    items = [{"qa_id": f"q{i}", "question": "Which side?", "answer": "left"} for i in range(25)]
    preds = [{"qa_id": f"q{i}", "model": m, "prediction": "left", "status": "ok"}
             for m in ("a", "b") for i in range(25)]
    preds[0]["status"] = "error"  # never asked
    rows = {r["judge"]: r for r in plan_judging(judges, items, preds, tmp_path / "c.sqlite")}
    assert set(rows) == {"openai", "qwen"}  # the rule judge costs nothing
    # every qa_id has the same question, answer and prediction: one distinct task, one call
    assert rows["openai"]["calls"] == rows["openai"]["items"] == 1
    # the default (structured) prompt's output budget, from its file
    assert rows["openai"]["est_prompt_tokens"] > 50 and rows["openai"]["est_output_tokens"] == 120
    assert "openai" in format_plan(list(rows.values()))


def test_token_usage_sums_per_judge():
    verdicts = [  # whole verdict rows: they are read as Verdict records
        {"qa_id": "q1", "model": "m", "judge": "openai", "judge_model": "gpt-4o",
         "verdict": "correct", "tokens": {"prompt": 10, "completion": 1, "total": 11}},
        {"qa_id": "q2", "model": "m", "judge": "openai", "judge_model": "gpt-4o",
         "verdict": "failed", "tokens": {}},
        {"qa_id": "q1", "model": "m", "judge": "rule", "judge_model": "rule-v1",
         "verdict": "correct", "tokens": {}},
    ]
    assert token_usage(verdicts) == [
        {"judge": "openai", "judge_model": "gpt-4o", "verdicts": 2, "failed": 1,
         "prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        {"judge": "rule", "judge_model": "rule-v1", "verdicts": 1, "failed": 0,
         "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    ]


def test_the_plan_table_counts_answers_as_the_preflight_does_with_a_total(tmp_path):
    from ct_spatial_bench.preflight import RunPlan

    judges = build_judges(["openai", "qwen"], {"openai": "k", "dashscope": "k"})
    items = [{"qa_id": f"q{i}", "question": f"Which side {i}?", "answer": "left"}
             for i in range(6)]
    preds = [{"qa_id": f"q{i}", "model": m, "prediction": "left", "status": "ok"}
             for m in ("a", "b") for i in range(6)]
    rows = plan_judging(judges, items, preds, tmp_path / "c.sqlite")
    table = format_plan(rows).splitlines()
    # 6 items x 2 models = 12 answers per judge; the two models answer alike: 6 distinct each
    assert [line.split()[2:4] for line in table[2:4]] == [["12", "6"], ["12", "6"]]
    assert table[-1].split()[:3] == ["total", "24", "12"]
    plan = RunPlan("full", items=6, volumes=1, models=["a", "b"],
                   judges=["judge openai (gpt-4o)", "judge qwen (qwen-plus)"])
    assert "12 per judge x 2 judges = 24" in plan.render()
