"""Which split and which QA set made an artifact: a stamp beside each file, checked on reading.

A stamp is a small JSON file ``.<name>.stamp.json`` beside the artifact ``<name>``, holding the
split (``sanity`` or ``full``) and the QA set's fingerprint at the time it was written. Reading a
stamped artifact whose fingerprint differs from the benchmark's is an error naming the file:
predictions or verdicts of another QA set are never combined with this one's without a word.

Kept free of Kedro; the hook in hooks.py decides when to stamp and when to check.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.fileio import atomic_write_bytes


class QASetMismatchError(ConfigurationError):
    """An artifact was made from another QA set (or split) than the benchmark's."""


def qa_fingerprint(items: Iterable[dict[str, Any]]) -> str:
    """A short hash of what a QA set asks: each item's id, volume, question and answer, in
    ``qa_id`` order (so the file's row order does not matter)."""
    rows = sorted((str(i["qa_id"]), str(i.get("image_path", "")), str(i["question"]),
                   str(i["answer"])) for i in items)
    blob = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def stamp_path(artifact: str | os.PathLike) -> Path:
    artifact = Path(artifact)
    return artifact.with_name(f".{artifact.name}.stamp.json")


def write_stamp(artifact: str | os.PathLike, split: str, fingerprint: str | None,
                dataset: str) -> None:
    stamp = {"split": split, "qa_fingerprint": fingerprint, "dataset": dataset}
    atomic_write_bytes(stamp_path(artifact), json.dumps(stamp, sort_keys=True).encode("utf-8"))


def stamps_of(location: str | os.PathLike) -> list[tuple[Path, dict[str, Any]]]:
    """The stamps of a file, or of every file directly inside a folder: (artifact, stamp)."""
    location = Path(location)
    if location.is_dir():
        candidates = sorted(location.glob(".*.stamp.json"))
    else:
        candidates = [stamp_path(location)]
    found = []
    for path in candidates:
        if not path.is_file():
            continue
        artifact = path.with_name(path.name[1:-len(".stamp.json")])
        found.append((artifact, json.loads(path.read_text(encoding="utf-8"))))
    return found


def check_same_qa_set(location: str | os.PathLike, split: str, fingerprint: str | None,
                      dataset: str) -> None:
    """Raise when an artifact at ``location`` was stamped by another split or QA set."""
    for artifact, stamp in stamps_of(location):
        theirs = stamp.get("qa_fingerprint")
        if stamp.get("split") not in (None, split):
            raise QASetMismatchError(
                f"{artifact} ({dataset}) was written by the {stamp['split']} split, not {split}: "
                "the splits keep separate output roots (conf/*/globals.yml run_root); remove "
                "the file or point run_root elsewhere.")
        if fingerprint and theirs and theirs != fingerprint:
            raise QASetMismatchError(
                f"{artifact} ({dataset}) was made from another QA set (fingerprint {theirs}) "
                f"than the benchmark's ({fingerprint}): remove it, or rerun the stage that "
                "writes it, before combining it with this QA set.")
