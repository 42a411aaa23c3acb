"""The async engine every LLM request goes through: concurrency, rate limits, retries, progress.

``run_calls`` sends one client's calls with at most ``client.concurrency`` in flight, paced by its
requests- and tokens-per-minute buckets, under one progress bar. A call that fails transiently
(429, 408, 5xx, a timeout, a dropped connection) is retried with exponential backoff and jitter,
waiting at least the server's Retry-After. Each reply goes to the caller's ``on_reply`` before the
worker takes its next call, so a caller that commits it to its cache there loses at most the calls
in flight when a run is killed. A call that never got a reply goes to ``on_failure`` (the caller
caches nothing, so the next run asks again); a fatal error (bad key, unknown model) stops the
client instead of paying for thousands of identical failures.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ct_spatial_bench.llm.cache import CacheWriteError
from ct_spatial_bench.llm.client import Completion, FatalLLMError, LLMClient, TransientError
from ct_spatial_bench.llm.limits import RateLimits
from ct_spatial_bench.secrets import error_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """One request: its messages, its output budget, and what the caller needs back with the
    reply (``payload``); ``size`` is how many items it answers, for the progress bar.

    ``system`` None sends no system message. ``decoding`` (None: the client's temperature and
    ``max_output``) is exactly the generation settings to send (``temperature``, ``max_tokens``,
    ``top_p``, ``top_k``; ``{}``: the SDK's defaults), for a request that must equal another
    project's; ``max_output`` then only paces and prices the call."""

    system: str | None
    user: str
    max_output: int
    payload: Any = None
    size: int = 1
    schema: dict | None = None  # a structured reply's JSON schema (the provider's JSON mode)
    decoding: dict | None = None  # exactly the generation settings to send (upstream's prompts)


def estimate_tokens(text: str) -> int:
    """About four characters a token for English text: enough to pace a rate limit and to budget."""
    return len(text) // 4 + 1


def backoff_delay(client: LLMClient, attempt: int, retry_after: float | None) -> float:
    """Seconds before retry ``attempt`` + 1: the server's Retry-After (plus up to 10 % so paused
    workers do not return in lockstep), else exponential with equal jitter, capped."""
    if retry_after is not None:
        return retry_after * (1.0 + random.uniform(0.0, 0.1))
    ceiling = min(client.backoff_max_s, client.backoff_base_s * 2 ** attempt)
    return ceiling / 2 + random.uniform(0.0, ceiling / 2)


class ClaimLost(Exception):
    """The items of a call are no longer this run's to ask (see ``run_calls``' ``still_ours``)."""


async def ask_with_retries(client: LLMClient, call: Call, limits: RateLimits,
                           json_mode: bool = False,
                           still_ours: Callable[[Call], bool] | None = None
                           ) -> tuple[Completion, float]:
    """One call (retried while transient); returns the reply and its latency. ``still_ours`` is
    asked right before every attempt is sent (after any wait); False raises ``ClaimLost``."""
    estimate = estimate_tokens(call.system or "") + estimate_tokens(call.user) + call.max_output
    # only a call that sets its schema or decoding passes it: clients written before keep working
    options = {**({"schema": call.schema} if call.schema else {}),
               **({} if call.decoding is None else {"decoding": call.decoding})}
    for attempt in range(client.max_retries + 1):
        await limits.acquire(estimate)
        if still_ours is not None and not still_ours(call):
            limits.settle(estimate, 0)
            raise ClaimLost("claim lost")
        started = time.perf_counter()
        try:
            # The SDK's own timeout should fire first; this one guards against a hung client.
            completion = await asyncio.wait_for(
                client.complete(call.system, call.user, call.max_output, json_mode, **options),
                client.timeout_s + 5.0)
        except (TransientError, asyncio.TimeoutError) as exc:
            limits.settle(estimate, 0)  # a refused or lost call is not billed
            retry_after = getattr(exc, "retry_after", None)
            if attempt == client.max_retries:
                raise TransientError(f"gave up after {attempt + 1} attempts: "
                                     f"{error_text(exc)}") from exc
            if retry_after is not None:
                limits.pause(retry_after)
            delay = backoff_delay(client, attempt, retry_after)
            logger.debug("%s: %s; retry %d in %.2f s", client.provider, exc, attempt + 1, delay)
            await asyncio.sleep(delay)
            continue
        limits.settle(estimate, completion.tokens.get("total"))
        return completion, time.perf_counter() - started
    raise AssertionError("unreachable")


async def renewing_claims(store: Any, lease_s: float, work: Any) -> None:
    """Await ``work`` while renewing ``store``'s claims (``llm.cache``) every third of a lease,
    so that only a dead run's claims expire."""
    async def renew() -> None:
        while True:
            await asyncio.sleep(lease_s / 3)
            store.renew(lease_s)

    renewer = asyncio.create_task(renew())
    try:
        await work
    finally:
        renewer.cancel()


async def run_calls(
    client: LLMClient,
    calls: Sequence[Call],
    on_reply: Callable[[Call, Completion, float], None],
    on_failure: Callable[[Call, str], None],
    *,
    desc: str,
    done_before: int = 0,
    position: int = 0,
    progress: bool = True,
    json_mode: bool = False,
    still_ours: Callable[[Call], bool] | None = None,
    on_lost: Callable[[Call], None] | None = None,
) -> None:
    """Send every call through ``client``; ``on_reply(call, completion, latency_s)`` or
    ``on_failure(call, reason)`` is called once per call, in the order replies arrive.

    ``still_ours(call)`` is checked right before each request is sent (claims held to the end:
    a run paused past its leases does not send what another run has taken); a call it refuses
    goes to ``on_lost(call)`` instead, unpaid.

    ``desc`` labels the progress bar and the log lines; ``done_before`` items (answered from a
    cache) start the bar. A reply ``on_reply`` cannot handle is a failure of that call only,
    except a ``CacheWriteError``: a paid reply that cannot be kept stops the run at once (no
    further call starts) and is raised once the calls in flight are done. Every reason is
    redacted (``ct_spatial_bench.secrets``): a server that echoes the key never puts it anywhere.
    """
    from tqdm.auto import tqdm

    limits = RateLimits(client.requests_per_minute, client.tokens_per_minute)
    semaphore = asyncio.Semaphore(client.concurrency)
    fatal: list[str] = []
    unkept: list[CacheWriteError] = []  # paid replies that could not be stored: stop everything
    bar = tqdm(total=sum(c.size for c in calls) + done_before, initial=done_before, desc=desc,
               position=position, unit="item", disable=None if progress else True, leave=True)

    async def ask(call: Call) -> None:
        async with semaphore:
            if fatal or unkept:
                on_failure(call, f"stopped: {fatal[0] if fatal else unkept[0]}")
                bar.update(call.size)
                return
            try:
                completion, latency = await ask_with_retries(client, call, limits, json_mode,
                                                             still_ours)
            except ClaimLost:
                if on_lost is not None:
                    on_lost(call)
            except CacheWriteError as exc:  # the claims could not be checked: stop, as below
                if not unkept:
                    logger.error("%s stopped: %s", desc, exc)
                unkept.append(exc)
                on_failure(call, f"not asked: {exc}")
            except Exception as exc:  # noqa: BLE001 - no reply fails this call, not the run
                reason = f"no reply: {error_text(exc)}"
                if isinstance(exc, FatalLLMError) and not fatal:
                    fatal.append(reason)
                    logger.error("%s stopped: %s", desc, reason)
                else:
                    logger.warning("%s: %s", desc, reason)
                on_failure(call, reason)
            else:
                try:
                    on_reply(call, completion, latency)
                except CacheWriteError as exc:
                    if not unkept:
                        logger.error("%s stopped: %s", desc, exc)
                    unkept.append(exc)
                    on_failure(call, f"not stored: {exc}")
                except Exception as exc:  # one unreadable reply fails its call, not the run
                    logger.exception("%s: reply not handled", desc)
                    on_failure(call, f"reply not handled: {error_text(exc)}")
            bar.update(call.size)

    await client.open()
    try:
        await asyncio.gather(*(ask(call) for call in calls))
    finally:
        await client.aclose()
        bar.close()
    if unkept:
        raise unkept[0]
