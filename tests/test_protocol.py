"""``protocol``: one switch that makes every stage's parameters upstream's, in any environment."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _parameters(env: str | None = None, **runtime):
    from ct_spatial_bench.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    loader = CONFIG_LOADER_CLASS(conf_source=str(ROOT / "conf"), env=env,
                                 runtime_params=runtime, **CONFIG_LOADER_ARGS)
    return loader["parameters"]


@pytest.mark.parametrize("env", [None, "full"])
def test_upstream_protocol_replaces_each_stages_settings(env):
    params = _parameters(env, protocol="upstream")
    judges = params["judging"]["judges"]
    assert [(j["name"], j["config"]["model"], j["config"]["prompt"]) for j in judges] == [
        ("openai", "gpt-4o-mini", "upstream_jury_v1"),
        ("gemini", "gemini-2.5-flash", "upstream_jury_gemini_v1"),
        ("qwen_openai", "qwen-plus", "upstream_jury_v1")]
    assert params["judging"]["judge_empty_predictions"] is True
    assert params["metrics"]["jury_rule"] == "upstream_avg3"
    assert params["qa_generation"]["prompt"] == "upstream_qa_generation_v1"
    assert params["qa_filtering"]["llm"]["filter_prompt"] == "upstream_llm_judge_v1"
    # settings upstream has no word on are the environment's own
    assert params["judging"]["cache_path"].startswith("data/full" if env else "data/")
    assert params["qa_filtering"]["spatial_filter"] == ("keep_all" if env else "rules")


def test_command_line_parameters_still_win_under_upstream():
    params = _parameters(protocol="upstream", metrics={"jury_rule": "majority"})
    assert params["metrics"]["jury_rule"] == "majority"
    assert params["judging"]["judges"][0]["config"]["model"] == "gpt-4o-mini"


def test_project_protocol_is_the_default_and_changes_nothing():
    default = _parameters()
    assert default["protocol"] == "project"
    assert default["metrics"]["jury_rule"] == "majority"
    assert default["judging"]["judges"] == ["offline"]
    full = _parameters("full")
    assert full["judging"]["judges"][0]["config"]["model"] == "gpt-4o"


def test_an_unknown_protocol_is_a_configuration_error():
    from ct_spatial_bench.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="protocol 'upstram'"):
        _parameters(protocol="upstram")
