"""A minimal JSON-reply LLM client for curation, with its own on-disk reply cache.

Curation asks an OpenAI-compatible endpoint (OpenAI, vLLM, any ``base_url``) for a JSON object
and keeps every *valid* reply in an append-only JSON Lines file keyed by (model, prompt version,
input text), written before the next call starts: a rerun or a crash re-pays nothing, and an
invalid reply is retried next time instead of being remembered.

This is deliberately small and synchronous. The judges' async engine and SQLite cache
(``ct_spatial_bench.judges``) are meant to take it over: :func:`cached_json_reply` maps onto
"engine.complete(model, prompt_version, key_text, messages)" with the same key, at which point
this module keeps only :class:`Prompt` and the validation helpers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_PROMPTS_SUBDIR = Path("conf") / "base" / "curation_prompts"


class ReplyError(ValueError):
    """An LLM reply that is not the JSON the prompt asked for."""


@dataclass(frozen=True)
class Prompt:
    """A versioned prompt: a system message and a user template with ``{placeholders}``.

    ``version`` is the file's ``version`` plus a hash of its text (as for the judges' prompts),
    so an edited prompt never reuses replies cached for the old text.
    """

    name: str
    version: str
    system: str
    template: str

    def messages(self, **fields: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.template.format(**fields)}]


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
    missing = [k for k in ("version", "system", "template") if not spec.get(k)]
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return Prompt(name=name, version=f"{spec['version']}@{digest}", system=str(spec["system"]),
                  template=str(spec["template"]))


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask. The key is read from the environment variable ``api_key_env``."""

    model: str
    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 2000
    timeout_s: float = 120.0
    max_retries: int = 2
    json_mode: bool = True

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LLMConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown LLM settings {sorted(unknown)}; expected {sorted(known)}")
        return cls(**params)

    def settings(self) -> dict[str, Any]:
        """What goes into each output record (never the key)."""
        return {"model": self.model, "base_url": self.base_url, "temperature": self.temperature,
                "max_tokens": self.max_tokens}


class ReplyCache:
    """Valid replies on disk, one JSON object per line, keyed by a hash of the request."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None
        self._replies: dict[str, dict[str, Any]] = {}
        if self.path and self.path.exists():
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:  # a line cut by a crash: that call is re-made
                        continue
                    self._replies[record["key"]] = record

    @staticmethod
    def key(model: str, prompt_version: str, text: str) -> str:
        payload = json.dumps([model, prompt_version, text], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        return self._replies.get(key)

    def put(self, key: str, record: dict[str, Any]) -> None:
        record = {"key": key, **record}
        self._replies[key] = record
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def __len__(self) -> int:
        return len(self._replies)


def make_client(config: LLMConfig) -> Any:
    """An ``openai.OpenAI`` client for ``config``; a missing key is an error naming the variable.

    ``api_key_env: null`` declares an endpoint that needs no key (a local vLLM server).
    """
    import openai

    if config.api_key_env is None:
        api_key = "not-needed"
    else:
        api_key = os.environ.get(config.api_key_env)
        if not api_key:
            raise RuntimeError(
                f"no API key for {config.model}: set {config.api_key_env}, or use the offline "
                "mode (qa_generation.generator: templates, qa_filtering: rules)")
    return openai.OpenAI(api_key=api_key, base_url=config.base_url,
                         timeout=config.timeout_s, max_retries=config.max_retries)


def request_json(client: Any, config: LLMConfig, messages: list[dict[str, str]]
                 ) -> tuple[str, dict[str, int]]:
    """One chat completion asking for a JSON object; returns (reply text, token usage)."""
    kwargs: dict[str, Any] = {"model": config.model, "messages": messages,
                              "temperature": config.temperature, "max_tokens": config.max_tokens}
    if config.json_mode:
        kwargs["response_format"] = {"type": "json_object"}
    response = client.chat.completions.create(**kwargs)
    text = response.choices[0].message.content or ""
    usage = getattr(response, "usage", None)
    tokens = {"prompt": getattr(usage, "prompt_tokens", 0) or 0,
              "completion": getattr(usage, "completion_tokens", 0) or 0}
    return text, tokens


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``, tolerating a Markdown code fence around it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        stripped = stripped[4:] if stripped.lower().startswith("json") else stripped
    start, end = stripped.find("{"), stripped.rfind("}")
    if start < 0 or end < start:
        raise ReplyError(f"no JSON object in the reply: {text[:200]!r}")
    try:
        value = json.loads(stripped[start:end + 1])
    except json.JSONDecodeError as exc:
        raise ReplyError(f"reply is not valid JSON ({exc.msg}): {text[:200]!r}") from exc
    if not isinstance(value, dict):
        raise ReplyError("reply is not a JSON object")
    return value


def cached_json_reply(
    client: Any,
    config: LLMConfig,
    cache: ReplyCache,
    prompt: Prompt,
    key_text: str,
    validate: Callable[[dict[str, Any]], Any],
    **fields: str,
) -> tuple[Any, dict[str, Any]]:
    """The validated reply for ``prompt`` filled with ``fields``, from the cache or the endpoint.

    ``key_text`` is the input the reply depends on (the report, the question and answer).
    Returns ``(validate(reply), info)`` where ``info`` says whether it was cached, the tokens and
    the latency. A reply that fails ``validate`` raises :class:`ReplyError` and is not cached.
    """
    key = ReplyCache.key(config.model, prompt.version, key_text)
    hit = cache.get(key)
    if hit is not None:
        return validate(parse_json_object(hit["reply"])), {**hit["info"], "cached": True}
    if client is None:
        raise RuntimeError("no LLM client and no cached reply")
    started = time.perf_counter()
    text, tokens = request_json(client, config, prompt.messages(**fields))
    info = {"tokens": tokens, "latency_s": round(time.perf_counter() - started, 3),
            "model": config.model, "prompt_version": prompt.version}
    value = validate(parse_json_object(text))
    cache.put(key, {"reply": text, "info": info})
    return value, {**info, "cached": False}
