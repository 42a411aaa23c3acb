"""Fixtures: the judges' fake LLM server answering curation's prompts, and LLMs aimed at it."""

from __future__ import annotations

import pytest
from fake_curation_llm import API_KEYS, FakeLLMServer, curation_answer, llm_settings


@pytest.fixture
def curation_server():
    server = FakeLLMServer(slow_s=2.0, answer=curation_answer).start()
    yield server
    server.stop()


@pytest.fixture
def make_llm(curation_server):
    """``make_llm(provider, **config)``: a curation LLM on a real SDK aimed at the fake server."""
    from ct_spatial_bench.curation.llm_client import curation_llm

    def make(provider: str = "openai", **config):
        return curation_llm(llm_settings(curation_server, provider, **config), API_KEYS,
                            "test", "nothing")

    return make
