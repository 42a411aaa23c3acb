"""Requests-per-minute and tokens-per-minute limits for one client, shared by its workers.

Token buckets refilled continuously, holding at most ``burst_s`` seconds' worth, so a run starts
at the limit's pace instead of spending a minute's quota in its first second. Tokens are taken at
the estimate before a call and corrected to the reply's real count after it. A 429 with
Retry-After pauses every worker of that client, not only the one that was refused.
"""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """``rate_per_minute`` units per minute; ``acquire(n)`` waits until ``n`` are available."""

    def __init__(self, rate_per_minute: float, burst_s: float = 10.0) -> None:
        if rate_per_minute <= 0:
            raise ValueError(f"a rate limit must be positive, got {rate_per_minute}")
        self.rate = rate_per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.level = self.capacity
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, amount: float) -> float:
        """Seconds until ``amount`` can be taken (a request larger than the bucket waits for a full one)."""
        self._refill()
        needed = min(amount, self.capacity)
        return 0.0 if self.level >= needed else (needed - self.level) / self.rate

    def take(self, amount: float) -> None:
        self._refill()
        self.level -= amount

    def give_back(self, amount: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level + amount)


class RateLimits:
    """The RPM and TPM buckets of one client (either may be None: unlimited) and its pause."""

    def __init__(self, requests_per_minute: float | None = None,
                 tokens_per_minute: float | None = None) -> None:
        self.requests = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute) if tokens_per_minute else None
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Hold every worker for ``seconds`` (the server asked for it with Retry-After)."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def acquire(self, estimated_tokens: int) -> None:
        """Wait for a request slot and ``estimated_tokens``; waiters are served in order."""
        async with self._lock:
            while True:
                wait = self.paused_until - time.monotonic()
                for bucket, amount in ((self.requests, 1), (self.tokens, estimated_tokens)):
                    if bucket is not None:
                        wait = max(wait, bucket.wait_time(amount))
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            if self.requests is not None:
                self.requests.take(1)
            if self.tokens is not None:
                self.tokens.take(estimated_tokens)

    def settle(self, estimated_tokens: int, actual_tokens: int | None) -> None:
        """Correct the token bucket once the reply says what the call really cost."""
        if self.tokens is None or actual_tokens is None:
            return
        difference = estimated_tokens - actual_tokens
        if difference > 0:
            self.tokens.give_back(difference)
        elif difference < 0:
            self.tokens.take(-difference)
