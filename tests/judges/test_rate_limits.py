import asyncio

import pytest

from ct_spatial_bench.llm.limits import RateLimits, TokenBucket
from ct_spatial_bench.llm.client import retry_after_seconds


def test_bucket_paces_after_its_burst():
    bucket = TokenBucket(rate_per_minute=600, burst_s=1.0)  # 10 a second, burst of 10
    assert bucket.capacity == pytest.approx(10)
    assert bucket.wait_time(10) == 0
    bucket.take(10)
    assert bucket.wait_time(1) == pytest.approx(0.1, abs=0.01)
    assert bucket.wait_time(1000) == pytest.approx(1.0, abs=0.02)  # capped at a full bucket


def test_token_estimate_is_settled_to_the_real_count():
    limits = RateLimits(tokens_per_minute=6000)  # capacity: 1000 tokens
    asyncio.run(limits.acquire(800))
    limits.settle(800, 100)  # the reply cost less: 700 come back
    assert limits.tokens.level == pytest.approx(900, abs=5)
    limits.settle(100, 600)
    assert limits.tokens.level == pytest.approx(400, abs=5)


def test_pause_holds_every_worker():
    async def go():
        limits = RateLimits()
        limits.pause(0.2)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(limits.acquire(1), limits.acquire(1))
        return loop.time() - start
    assert asyncio.run(go()) >= 0.19


def test_retry_after_forms():
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None and retry_after_seconds({"Retry-After": "soon"}) is None
