"""The shared fixtures: one fake server on 127.0.0.1 for every protocol the project speaks
(OpenAI, Gemini, DashScope), answering each request as a judge, as curation's LLM or as a served
VLM (support/fake_llm_server.py), and the clients aimed at it."""

from __future__ import annotations

import pytest

from support.fake_llm_server import API_KEYS, GOOD_KEY, FakeLLMServer, llm_settings


@pytest.fixture
def fake_server():
    """The fake server: a judge's prompt gets a verdict, curation's prompts their replies, a
    vision request the reply ``fake_server.vlm_script`` gives its question."""
    server = FakeLLMServer(slow_s=2.0).start()
    yield server
    server.stop()


@pytest.fixture
def make_judge(fake_server):
    """``make_judge(provider, **config)``: a real SDK judge aimed at the fake server, fast retries."""
    from ct_spatial_bench.judges.registry import create_judge

    def make(provider: str, **config):
        settings = {"api_key": GOOD_KEY, "base_url": fake_server.urls[provider],
                    "backoff_base_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 0.5,
                    "concurrency": 4, **config}
        return create_judge(provider, settings)

    return make


@pytest.fixture
def make_llm(fake_server):
    """``make_llm(provider, **config)``: a curation LLM on a real SDK aimed at the fake server."""
    from ct_spatial_bench.curation.llm_client import curation_llm

    def make(provider: str = "openai", **config):
        return curation_llm(llm_settings(fake_server, provider, **config), API_KEYS,
                            "test", "nothing")

    return make


@pytest.fixture(scope="session")
def quick_start_run(tmp_path_factory):
    """The README quick start's ``kedro run``, as written, with this environment's kedro, in a
    scratch copy of the project (the checkout's data/ is untouched); shared by the tests that
    read the sanity run's outputs and those that check its console against the docs."""
    from support.doc_commands import quick_start_lines, run_kedro, steps
    from support.project import make_scratch_project

    (step,) = [s for line in quick_start_lines() for s in steps(line)
               if s[0].endswith("kedro")]
    root = make_scratch_project(tmp_path_factory.mktemp("quick_start"))
    done = run_kedro(root, step)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root, done
