"""The reliability experiments' name for the shared fake server (tests/support/fixtures.py).

Every test here counts what the server itself received: requests per item, keys it was sent."""

from __future__ import annotations

import pytest


@pytest.fixture
def server(fake_server):
    return fake_server
