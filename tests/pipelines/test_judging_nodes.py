import pytest

from ct_spatial_bench.judges.engine import DryRunStop
from ct_spatial_bench.pipelines.judging.nodes import judge_all, summarise_judge_usage

ITEMS = [{"qa_id": "c::0", "case_id": "c", "image_path": "", "question": "Which lung?",
          "answer": "left lung", "categories": [], "source": "t", "meta": {}}]
PREDS = [{"qa_id": "c::0", "model": "m", "prediction": "left lung", "status": "ok", "error": None}]


def params(tmp_path, **extra):
    return {"judges": ["rule", "openai"], "cache_path": str(tmp_path / "cache.sqlite"), **extra}


def test_rule_judge_runs_offline_and_keyless_judges_are_skipped(tmp_path, caplog):
    verdicts = judge_all(ITEMS, PREDS, params(tmp_path), {"openai": None})
    assert [(v["judge"], v["verdict"]) for v in verdicts] == [("rule", "correct")]
    assert "'openai'" in caplog.text
    assert summarise_judge_usage(verdicts)[0]["verdicts"] == 1


def test_dry_run_prints_the_plan_and_spends_nothing(tmp_path, capsys):
    with pytest.raises(DryRunStop):
        judge_all(ITEMS, PREDS, params(tmp_path, dry_run=True), {"openai": "sk-x"})
    out = capsys.readouterr().out
    assert "openai" in out and "gpt-4o-mini" in out and "sk-x" not in out


def test_a_dry_run_needs_no_keys_and_prices_each_judge(tmp_path, capsys):
    prices = {"gpt-4o-mini": {"prompt": 1_000_000, "output": 0}}  # $1 a prompt token: cost = tokens
    with pytest.raises(DryRunStop):
        judge_all(ITEMS, PREDS, params(tmp_path, dry_run=True, prices=prices), {})
    row = capsys.readouterr().out.splitlines()[-1].split()
    # answers, distinct items, cached, calls (issue 25 added the answers column)
    assert row[:6] == ["openai", "gpt-4o-mini", "1", "1", "0", "1"]
    assert float(row[-1]) == float(row[6])  # prompt tokens x $1


def test_no_available_judge_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="no judge is available"):
        judge_all(ITEMS, PREDS, {"judges": ["openai"]}, {})
