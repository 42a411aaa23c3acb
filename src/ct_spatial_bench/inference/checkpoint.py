"""What a checkpointed answer is keyed by, and the checkpoint file itself.

An answer is reused only when everything that determines it is the same: the model, its weights
revision, the prompt template, the decoding settings (``describe``), the configuration that
reaches the model, and the content of the input it read. Operational settings (timeouts, retries,
batch sizes, concurrency, the name of the key's environment variable) change how the answer is
fetched, not what it is, so they are left out; a ``base_url`` is compared in a normal form
(``http://localhost:8000/v1/`` is ``http://127.0.0.1:8000/v1``) while a different host, port or
path is a different server, hence a different model.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ct_spatial_bench.records import Prediction, RecordError, as_rows

# Settings that change how an answer is obtained, never what it is.
OPERATIONAL_SETTINGS = frozenset({
    "batch_size", "timeout_s", "timeout", "max_retries", "retries", "concurrency",
    "max_concurrency", "api_key_env", "progress", "save_threads", "share_prefix",
    "batch_questions", "max_batch",
})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}


def normal_url(url: str) -> str:
    """``url`` in one spelling: lower-case scheme and host, loopback names as 127.0.0.1, no
    default port, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host in _LOOPBACK:
        host = "127.0.0.1"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def answer_config(config: dict[str, Any]) -> dict[str, Any]:
    """The part of a model's configuration that can change its answers: operational settings and
    keys left out, URLs in their normal form, the blind prior as a digest of its rows."""
    kept: dict[str, Any] = {}
    for key, value in config.items():
        if key in OPERATIONAL_SETTINGS or "key" in key.lower():
            continue
        if key == "answer_prior":
            value = content_digest(value)
        elif key.endswith("url") and isinstance(value, str) and value:
            value = normal_url(value)
        kept[key] = value
    return kept


def content_digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def run_signature(model: str, description: dict[str, Any], config: dict[str, Any],
                  prompt_template: Any) -> str:
    """A short hash of what determines a model's answers apart from its input and question (see
    the module docstring): ``prompt_template`` is the adapter's (``ModelAdapter.prompt_template``),
    named on its own so that no adapter's ``describe`` can leave it out. A checkpointed answer
    under another signature is never reused."""
    return content_digest({"model": model, "describe": description,
                           "config": answer_config(config), "prompt_template": prompt_template})


def read_checkpoint(path: Path | None, signature: str) -> dict[str, Prediction]:
    """Finished predictions made under ``signature``, by qa_id. A torn line (a crash while
    writing) is skipped, as is a row that is no prediction; the next append starts on a line of
    its own (``append_rows``)."""
    done: dict[str, Prediction] = {}
    if path is None or not path.is_file():
        return done
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if (isinstance(row, dict) and row.get("run_signature") == signature
                    and row.get("status") == "ok"):
                try:
                    done[row["qa_id"]] = Prediction.from_dict(row, f"{path}")
                except RecordError:
                    continue
    return done


def append_rows(path: Path | None, rows: list[Mapping[str, Any]]) -> None:
    """Append ``rows`` as JSON Lines and sync them to disk before the next call is made.

    A file whose last line was torn by a crash (no final newline) gets that line terminated
    first, so the torn text never runs into the first new row."""
    if path is None or not rows:
        return
    from ct_spatial_bench.secrets import redact

    rows = redact(as_rows(rows))  # a worker's error or a URL's password never reaches the disk
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        torn = handle.tell() > 0 and _last_byte(path) != b"\n"
        text = ("\n" if torn else "") + "".join(
            json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)
