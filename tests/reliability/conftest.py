"""The judges' fake LLM server (tests/support/fake_llm_server.py) for the reliability experiments.

Every test here counts what the server itself received: requests per item, keys it was sent."""

from __future__ import annotations

import pytest
from reliability_helpers import FakeLLMServer


@pytest.fixture
def server():
    fake = FakeLLMServer(slow_s=2.0).start()
    yield fake
    fake.stop()
