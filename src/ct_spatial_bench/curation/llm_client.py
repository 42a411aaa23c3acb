"""Curation's LLM steps on the shared provider layer (``ct_spatial_bench.llm``): prompts, the
step's settings, and JSON replies validated before they are cached.

A step's ``llm`` settings name a ``provider`` (openai, gemini, qwen, openai_compatible, as for the
judges) and its ``config`` (model, base_url, temperature, concurrency, requests_per_minute,
tokens_per_minute, max_retries, timeout_s), plus ``max_tokens`` per reply and ``json_mode``. Keys
come from conf credentials like the judges'. :func:`json_replies` sends a step's prompts through
the async engine (concurrency, rate limits, retries honouring Retry-After, a progress bar) and
commits each *valid* reply to an SQLite cache keyed by (provider, model, prompt version, input
text) as it arrives: a rerun makes no call, and a reply that is not the JSON asked for is an
error for that item only, cached as nothing, so the next run asks again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ct_spatial_bench.curation.reply_forms import (  # noqa: F401 - importable from here too
    REPLY_FORMS, ReplyError, parse_json_object, parse_reply)

logger = logging.getLogger(__name__)

_PROMPTS_SUBDIR = Path("conf") / "base" / "curation_prompts"
STEP_SETTINGS = ("provider", "config", "max_tokens", "json_mode")


@dataclass(frozen=True)
class Prompt:
    """A versioned prompt: a system message and a user template with ``{placeholders}``.

    ``version`` is the file's ``version`` plus a hash of its text (as for the judges' prompts),
    so an edited prompt never reuses replies cached for the old text. A prompt that reproduces
    another project's request exactly (``upstream_*``) may say ``system: null`` (no system
    message), ``decoding`` (exactly the generation settings sent, ``{}``: the SDK's defaults;
    judges/prompts.py) and ``reply`` (``object``, the default; ``json_list``; ``python_list``, a
    list written as Python or JSON).
    """

    name: str
    version: str
    system: str | None
    template: str
    decoding: dict | None = None
    reply: str = "object"
    batch_size: int = 1  # items a call (upstream's filter: 5 pairs of one case)

    def render(self, **fields: str) -> tuple[str | None, str]:
        """(system, user) messages with ``fields`` filled in."""
        return self.system, self.template.format(**fields)


def default_prompts_dir() -> Path:
    """The project's ``conf/base/curation_prompts`` (current folder first, else this tree's)."""
    here = Path.cwd() / _PROMPTS_SUBDIR
    return here if here.is_dir() else Path(__file__).resolve().parents[3] / _PROMPTS_SUBDIR


def load_prompt(name: str, prompts_dir: str | os.PathLike | None = None) -> Prompt:
    """Read ``<prompts_dir>/<name>.yml``; a missing or incomplete file is an error naming it."""
    import yaml

    folder = Path(prompts_dir) if prompts_dir else default_prompts_dir()
    path = folder / f"{name}.yml"
    if not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.yml")) if folder.is_dir() else []
        raise FileNotFoundError(f"curation prompt {name!r} not found at {path}; "
                                f"available: {available}")
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text) or {}
    missing = [k for k in ("version", "template") if not spec.get(k)]
    if "system" not in spec or (spec["system"] is not None and not str(spec["system"]).strip()):
        missing.append("system")  # null (no system message) only when written so
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    from ct_spatial_bench.judges.prompts import DECODING_KEYS

    decoding, reply = spec.get("decoding"), spec.get("reply", "object")
    if decoding is not None and (not isinstance(decoding, dict)
                                 or set(decoding) - set(DECODING_KEYS)):
        raise ValueError(f"{path}: decoding must be a mapping of {list(DECODING_KEYS)}")

    if reply not in REPLY_FORMS:
        raise ValueError(f"{path}: reply {reply!r} not in {REPLY_FORMS}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return Prompt(name=name, version=f"{spec['version']}@{digest}",
                  system=None if spec["system"] is None else str(spec["system"]),
                  template=str(spec["template"]),
                  decoding=dict(decoding) if decoding is not None else None, reply=reply,
                  batch_size=int(spec.get("batch_size", 1)))


@dataclass
class CurationLLM:
    """A provider client (``ct_spatial_bench.llm``) and the reply settings of one curation step."""

    client: Any
    max_tokens: int | None = 2000  # None: no limit sent (a prompt with its own decoding)
    json_mode: bool = True

    @property
    def name(self) -> str:
        return f"llm:{self.client.model}"

    def settings(self) -> dict[str, Any]:
        """The decoding settings every output record carries (never the key)."""
        return {**self.client.settings(), "max_tokens": self.max_tokens,
                "json_mode": self.json_mode}


def curation_llm(settings: Mapping[str, Any], api_keys: Mapping[str, str | None] | None,
                 step: str, fallback: str, other_keys: tuple[str, ...] = ()
                 ) -> CurationLLM | None:
    """The step's LLM from its settings, or None (with a warning naming the provider, the
    variable to set and ``fallback``, the offline path taken instead) when its key is absent.

    ``other_keys`` are settings of the step read elsewhere (its prompts); any other key than
    those and :data:`STEP_SETTINGS` is an error, so a misspelt or outdated setting is not lost.
    """
    from ct_spatial_bench.llm.providers import create_client, with_api_key

    unknown = sorted(set(settings) - set(STEP_SETTINGS) - set(other_keys))
    if unknown or "provider" not in settings:
        problem = f"unknown setting(s) {unknown}" if unknown else "no 'provider'"
        raise ValueError(f"{step}.llm: {problem}; expected {list(STEP_SETTINGS)}, the provider "
                         "one of openai, gemini, qwen, openai_compatible (model, base_url and "
                         "limits go in config; API keys come from conf credentials)")
    provider = settings["provider"]
    config, no_key = with_api_key(provider, settings.get("config") or {}, api_keys)
    if no_key:
        logger.warning("%s: LLM provider %r %s; falling back to %s", step, provider, no_key,
                       fallback)
        return None
    max_tokens = settings.get("max_tokens", 2000)
    return CurationLLM(create_client(provider, config),
                       int(max_tokens) if max_tokens is not None else None,
                       bool(settings.get("json_mode", True)))


@dataclass
class JsonReply:
    """One item's outcome: its validated ``value``, or the ``error`` that kept it from one."""

    value: Any = None
    error: str | None = None
    cached: bool = False
    tokens: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0


def json_replies(
    llm: CurationLLM,
    prompt: Prompt,
    fields_by_item: Mapping[str, Mapping[str, str]],
    validate,
    cache_path: str | os.PathLike | None,
    desc: str,
    item_kind: str = "item",
    progress: bool = True,
) -> dict[str, JsonReply]:
    """``{item id: JsonReply}`` for ``prompt`` filled with each item's fields.

    ``fields_by_item`` maps an item id (a case id, a qa_id) to its prompt fields; items whose
    filled prompts are the same share one call. ``validate(reply dict)`` returns the value or
    raises :class:`ReplyError`. Cached replies are validated again (one today's checks refuse is
    asked again). Every error is logged naming ``desc``, ``item_kind`` and the item id. Calls are
    claimed in the cache first (``llm.cache``): a second run at the same time reads what the first
    has in flight instead of paying for it again.
    """
    import asyncio
    import time

    from ct_spatial_bench.judges.prompts import UNCAPPED_OUTPUT_ESTIMATE
    from ct_spatial_bench.llm.cache import LEASE_S, POLL_S, ReplyCache
    from ct_spatial_bench.llm.engine import Call, renewing_claims, run_calls
    from ct_spatial_bench.secrets import redact_text

    client, outcomes = llm.client, {}
    pending: dict[str, tuple[str, str, list[str]]] = {}  # cache key -> (system, user, item ids)

    def settle(item_ids: list[str], outcome: JsonReply) -> None:
        for item_id in item_ids:
            outcomes[item_id] = outcome
            if outcome.error:
                logger.error("%s: %s %s: %s", desc, item_kind, item_id, outcome.error)

    with ReplyCache(cache_path) as cache:
        for item_id, fields in fields_by_item.items():
            system, user = prompt.render(**fields)
            key = ReplyCache.key(client.provider, client.model, prompt.version, user)
            hit = cache.get(key) if key not in pending else None
            try:
                if hit is not None:
                    outcomes[item_id] = JsonReply(validate(parse_reply(prompt, hit["text"])),
                                                  cached=True, tokens=hit["tokens"],
                                                  latency_s=hit["latency_s"])
                    continue
            except ReplyError:
                pass
            pending.setdefault(key, (system, user, []))[2].append(item_id)

        def on_reply(call: Call, completion: Any, latency: float) -> None:
            key, item_ids = call.payload
            tokens, latency = completion.tokens, round(latency, 6)
            try:
                if completion.text is None or completion.refusal:
                    raise ReplyError(f"no reply text ({completion.refusal or 'empty reply'})")
                value = validate(parse_reply(prompt, completion.text))
            except ReplyError as exc:  # not cached: the next run asks again
                settle(item_ids, JsonReply(error=redact_text(f"ReplyError: {exc}"),
                                           tokens=tokens, latency_s=latency))
                cache.release([key])
                return
            cache.put(key, client.provider, client.model, prompt.version, completion.text,
                      tokens, latency)
            settle(item_ids, JsonReply(value, tokens=tokens, latency_s=latency))

        def on_failure(call: Call, reason: str) -> None:
            settle(call.payload[1], JsonReply(error=reason))
            cache.release([call.payload[0]])

        def read_stored(key: str, item_ids: list[str]) -> bool:
            hit = cache.get(key)
            if hit is None:
                return False
            try:
                settle(item_ids, JsonReply(validate(parse_reply(prompt, hit["text"])), cached=True,
                                           tokens=hit["tokens"], latency_s=hit["latency_s"]))
            except ReplyError as exc:
                settle(item_ids, JsonReply(error=redact_text(f"ReplyError: {exc}")))
            return True

        logger.info("%s (%s, %s): %d %ss cached, %d calls to make", desc, llm.name,
                    prompt.version, len(outcomes), item_kind, len(pending))
        stale = {key for key in pending if cache.get(key) is not None}  # refused by today's checks
        while pending:
            mine = cache.claim(list(pending), LEASE_S, stale)
            stale = set()
            budget = llm.max_tokens or UNCAPPED_OUTPUT_ESTIMATE
            if prompt.decoding is not None:
                budget = int(prompt.decoding.get("max_tokens") or UNCAPPED_OUTPUT_ESTIMATE)
            calls = [Call(system, user, budget, (key, ids), size=len(ids),
                          decoding=prompt.decoding)
                     for key, (system, user, ids) in pending.items() if key in mine]
            if calls:
                asyncio.run(renewing_claims(cache, LEASE_S, run_calls(
                    client, calls, on_reply, on_failure, desc=desc, done_before=len(outcomes),
                    progress=progress, json_mode=llm.json_mode)))
            pending = {key: entry for key, entry in pending.items()
                       if key not in mine and not read_stored(key, entry[2])}
            if pending and not calls:
                time.sleep(POLL_S)  # another run has them in flight
    return outcomes
