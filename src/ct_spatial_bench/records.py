"""The records every stage exchanges, and their loaders.

JSON Lines is the canonical form. A QA item, a prediction and a verdict are plain dicts with the
fields below; ``validate_*`` checks one and names the file and line of a bad one. Records are joined
by ``qa_id`` (or another explicit key), never by position.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

QA_FIELDS = ("qa_id", "case_id", "image_path", "question", "answer", "categories", "source", "meta")
PREDICTION_FIELDS = (
    "qa_id", "model", "prediction", "status", "error", "prompt", "generation",
    "model_revision", "latency_s", "timestamp",
)
VERDICT_FIELDS = (
    "qa_id", "model", "judge", "judge_model", "verdict", "reason", "raw",
    "prompt_version", "tokens", "latency_s",
)
VERDICTS = ("correct", "incorrect", "failed")
PREDICTION_STATUSES = ("ok", "error")


class RecordError(ValueError):
    """A record that cannot be used; the message names where it came from."""


def _where(source: str | os.PathLike | None, line: int | None) -> str:
    if source is None:
        return f"item {line}" if line is not None else "record"
    return f"{source}:{line}" if line is not None else str(source)


def make_qa_id(case_id: str, index: int) -> str:
    """The upstream question_id form: ``valid_1000_a_1.nii.gz::0``."""
    return f"{case_id}::{index}"


def case_id_from_image_path(image_path: str) -> str:
    return os.path.basename(str(image_path))


def normalise_qa_items(
    rows: Iterable[dict[str, Any]], source: str | os.PathLike | None = None
) -> list[dict[str, Any]]:
    """Turn rows in any accepted form into QA items with every field, checking each.

    Accepted forms: canonical QA items; the seeds' ``{image_path, question, answer, meta}``;
    upstream's ``{case_id, image_path, question, answer}``. A missing ``qa_id`` is made from the case
    and the row's index among that case's rows, in file order (upstream's question_id).
    """
    items: list[dict[str, Any]] = []
    per_case: dict[str, int] = {}
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=1):
        where = _where(source, line)
        if not isinstance(row, dict):
            raise RecordError(f"{where}: expected an object, got {type(row).__name__}")
        for field in ("question", "answer"):
            if not isinstance(row.get(field), str):
                raise RecordError(f"{where}: missing or non-text field {field!r}")
        image_path = row.get("image_path")
        case_id = row.get("case_id") or (case_id_from_image_path(image_path) if image_path else None)
        if not case_id:
            raise RecordError(f"{where}: needs 'case_id' or 'image_path'")
        index = per_case.get(case_id, 0)
        per_case[case_id] = index + 1
        qa_id = row.get("qa_id") or row.get("question_id") or make_qa_id(case_id, index)
        if qa_id in seen:
            raise RecordError(f"{where}: duplicate qa_id {qa_id!r} (first at item {seen[qa_id]})")
        seen[qa_id] = line
        categories = row.get("categories", row.get("category", [])) or []
        if isinstance(categories, str):
            categories = [categories]
        meta = row.get("meta") or {}
        if not isinstance(meta, dict):
            raise RecordError(f"{where}: 'meta' must be an object")
        items.append({
            "qa_id": str(qa_id),
            "case_id": str(case_id),
            "image_path": str(image_path) if image_path else "",
            "question": row["question"],
            "answer": row["answer"],
            "categories": list(categories),
            "source": row.get("source") or "",
            "meta": meta,
        })
    return items


def validate_prediction(pred: dict[str, Any], where: str = "prediction") -> None:
    missing = [f for f in ("qa_id", "model", "prediction", "status") if f not in pred]
    if missing:
        raise RecordError(f"{where}: missing field(s) {missing}")
    if pred["status"] not in PREDICTION_STATUSES:
        raise RecordError(f"{where}: status {pred['status']!r} not in {PREDICTION_STATUSES}")


def validate_verdict(verdict: dict[str, Any], where: str = "verdict") -> None:
    missing = [f for f in ("qa_id", "model", "judge", "verdict") if f not in verdict]
    if missing:
        raise RecordError(f"{where}: missing field(s) {missing}")
    if verdict["verdict"] not in VERDICTS:
        raise RecordError(f"{where}: verdict {verdict['verdict']!r} not in {VERDICTS}")


def iter_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Yield the objects of a JSON Lines file; a bad line (not JSON, not UTF-8) raises naming
    the file and line."""
    for _, record in numbered_jsonl(path):
        yield record


def numbered_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file, checked as
    ``iter_jsonl`` checks them."""
    with open(path, "rb") as handle:
        for line_no, data in enumerate(handle, start=1):
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RecordError(f"{path}:{line_no}: not UTF-8 text (byte {exc.start + 1} of "
                                  "the line)") from exc
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from exc


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read rows from JSON Lines, a JSON list, CSV, or a folder of those files (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        rows: list[dict[str, Any]] = []
        for child in sorted(path.iterdir()):
            if child.suffix in (".jsonl", ".json", ".csv"):
                rows.extend(read_records(child))
        return rows
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            for key in ("categories", "meta"):
                if isinstance(row.get(key), str) and row[key].strip()[:1] in "[{":
                    row[key] = json.loads(row[key])
        return rows
    if path.suffix == ".json":
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, list):
            raise RecordError(f"{path}: expected a JSON list of records")
        return data
    return list(iter_jsonl(path))


def load_qa_items(path: str | os.PathLike) -> list[dict[str, Any]]:
    return normalise_qa_items(read_records(path), source=path)


def index_by(records: Iterable[dict[str, Any]], key: str = "qa_id") -> dict[str, dict[str, Any]]:
    """Index records by ``key``; a duplicate key is an error, never a silent overwrite."""
    out: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(records, start=1):
        k = rec[key]
        if k in out:
            raise RecordError(f"item {i}: duplicate {key} {k!r}")
        out[k] = rec
    return out


def volume_key(image_path: str, strip_prefix: str = "") -> str:
    """The key of a QA item's volume in a partitioned volume folder.

    ``image_path`` is relative to the split's volume root once ``strip_prefix`` is removed (the
    full split's paths carry upstream's ``dataset/data_volumes/...`` prefix); the NIfTI suffix is
    dropped, as Kedro's PartitionedDataset drops its ``filename_suffix``.
    """
    path = str(image_path).replace("\\", "/")
    if strip_prefix and path.startswith(strip_prefix):
        path = path[len(strip_prefix):]
    for suffix in (".nii.gz", ".nii"):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path
