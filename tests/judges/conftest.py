"""The fake judge API server (tests/judges/fake_llm_server.py) and judges pointed at it."""

from __future__ import annotations

import pytest

from fake_llm_server import GOOD_KEY, PROTOCOL, PROVIDERS, FakeLLMServer  # noqa: F401

# The fake server counts DashScope requests under the protocol's name.


@pytest.fixture
def fake_server():
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
