"""The records every stage exchanges, their one vocabulary, and their loaders.

JSON Lines is the canonical form, so records travel between stages as plain dicts with the field
names below (DESIGN.md); ``Prediction``, ``Verdict`` and ``Decision`` are their typed forms, with
``from_dict`` (checked, naming the file and line of a bad one) and ``to_dict`` (the JSONL fields,
then any extra fields the row carried). Records are joined by ``qa_id`` or by ``(model, qa_id)``
(``index_by_item``), never by position.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar
QA_FIELDS = ("qa_id", "case_id", "image_path", "question", "answer", "categories", "source", "meta")

# A judge's verdict and the jury's decision on one prediction. ``failed``: it could not decide (no
# reply, an unreadable one); never a vote, never ``incorrect``, outside accuracy denominators.
CORRECT, INCORRECT, FAILED = "correct", "incorrect", "failed"
VERDICTS = (CORRECT, INCORRECT, FAILED)
# A prediction's status: ``error`` when the model was asked and gave no answer.
OK, ERROR = "ok", "error"
PREDICTION_STATUSES = (OK, ERROR)
# Why a prediction is an error: ``data`` (its input or its own record could not be used: an
# unreadable volume, a null or non-text answer), ``infrastructure`` (the model call failed).
DATA_ERROR, INFRASTRUCTURE_ERROR = "data", "infrastructure"
ERROR_KINDS = (DATA_ERROR, INFRASTRUCTURE_ERROR)
# Longer than any answer a model is asked for (max_new_tokens caps them far below): a record
# this long is a broken file or a runaway reply, not an answer to score.
MAX_PREDICTION_CHARS = 16_384

ItemKey = tuple[str, str]  # (model, qa_id): one model's answer to one question


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
        if not row["question"].strip():
            raise RecordError(f"{where}: the question is empty")
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


R = TypeVar("R", bound="_Record")


class _Record:
    """What the typed records share: ``FIELDS`` in JSONL order, ``REQUIRED`` of them in every
    row, and ``extra`` for the fields a stage adds beside them (a probe's ``variant``, upstream's
    ``case_id``), kept so that ``from_dict(row).to_dict()`` loses nothing."""

    FIELDS: ClassVar[tuple[str, ...]]
    REQUIRED: ClassVar[tuple[str, ...]]
    # Fields written only when set, so rows that never had them stay as they were on disk.
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ()
    model: str
    qa_id: str
    extra: dict[str, Any]

    @classmethod
    def from_dict(cls: type[R], row: Mapping[str, Any], where: str = "") -> R:
        where = where or cls.__name__.lower()
        if not isinstance(row, Mapping):
            raise RecordError(f"{where}: expected an object, got {type(row).__name__}")
        missing = [f for f in cls.REQUIRED if f not in row]
        if missing:
            raise RecordError(f"{where}: missing field(s) {missing}")
        record = cls(**{f: row[f] for f in cls.FIELDS if f in row},
                     extra={k: v for k, v in row.items() if k not in cls.FIELDS})
        record.check(where)
        return record

    def check(self, where: str) -> None:
        """Raise naming ``where`` when a field holds a value outside its vocabulary."""

    def to_dict(self) -> dict[str, Any]:
        return {**{f: getattr(self, f) for f in self.FIELDS
                   if f not in self.WRITTEN_WHEN_SET or getattr(self, f) is not None},
                **self.extra}

    @property
    def key(self) -> ItemKey:
        return self.model, self.qa_id


def _fields_of(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name != "extra")


@dataclass(frozen=True)
class Prediction(_Record):
    """One model's answer to one question; ``status`` error (with ``error``) when it gave none."""

    qa_id: str
    model: str
    prediction: str
    status: str = OK
    error: str | None = None
    prompt: str = ""
    generation: dict[str, Any] = field(default_factory=dict)  # the decoding settings used
    model_revision: str = ""
    latency_s: float | None = None
    timestamp: str | None = None
    # Beyond DESIGN's list: why an error is one (ERROR_KINDS), the model a blind control is the
    # twin of, whether the image was withheld, a probe's variant, token counts, the content of
    # the input read, and what the answer answered (``question_fingerprint``, of the volume's
    # ``volume_fingerprint``): joins check it, since a qa_id alone does not prove the question.
    error_kind: str | None = None
    base_model: str = ""
    blind: bool = False
    variant: str | None = None
    tokens: dict[str, Any] | None = None
    input_fingerprint: str | None = None
    volume_fingerprint: str | None = None
    question_fingerprint: str | None = None
    # decoding stopped at max_new_tokens (the answer may be cut); only where the adapter knows
    hit_token_limit: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    REQUIRED: ClassVar[tuple[str, ...]] = ("qa_id", "model", "prediction", "status")
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("hit_token_limit",)

    def check(self, where: str) -> None:
        if self.status not in PREDICTION_STATUSES:
            raise RecordError(f"{where}: status {self.status!r} not in {PREDICTION_STATUSES}")
        if self.error_kind is not None and self.error_kind not in ERROR_KINDS:
            raise RecordError(f"{where}: error_kind {self.error_kind!r} not in {ERROR_KINDS}")


@dataclass(frozen=True)
class Verdict(_Record):
    """One judge's verdict on one prediction, with the reply it was read from (``raw``)."""

    qa_id: str
    model: str
    judge: str
    judge_model: str = ""
    verdict: str = FAILED
    reason: str = ""
    raw: str = ""
    prompt_version: str = ""
    tokens: dict[str, int] = field(default_factory=dict)
    latency_s: float | None = None
    # The probe variant of the prediction judged (``Prediction.variant``): several variants of
    # one model share its name, so (model, qa_id) is an item's key within one variant.
    variant: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    REQUIRED: ClassVar[tuple[str, ...]] = ("qa_id", "model", "judge", "verdict")
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("variant",)

    def check(self, where: str) -> None:
        if self.verdict not in VERDICTS:
            raise RecordError(f"{where}: verdict {self.verdict!r} not in {VERDICTS}")


@dataclass(frozen=True)
class Decision(_Record):
    """The jury's decision on one prediction under ``rule`` (judges.jury.RULES)."""

    model: str
    qa_id: str
    rule: str
    decision: str
    extra: dict[str, Any] = field(default_factory=dict)

    REQUIRED: ClassVar[tuple[str, ...]] = ("model", "qa_id", "decision")

    def check(self, where: str) -> None:
        if self.decision not in VERDICTS:
            raise RecordError(f"{where}: decision {self.decision!r} not in {VERDICTS}")


# The JSONL field names, in order, read off the dataclasses so they are written once.
for _cls in (Prediction, Verdict, Decision):
    _cls.FIELDS = _fields_of(_cls)


def validate_prediction(pred: Mapping[str, Any], where: str = "prediction") -> None:
    Prediction.from_dict(pred, where)


def validate_verdict(verdict: Mapping[str, Any], where: str = "verdict") -> None:
    Verdict.from_dict(verdict, where)


def checked_prediction(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A prediction row as read from ``where`` (a file and line), its value checked at the door.

    A row that cannot be keyed (not an object, no model or qa_id, a status outside the
    vocabulary) raises ``RecordError`` naming ``where``. A row whose answer is unusable (null,
    not text, longer than ``MAX_PREDICTION_CHARS``) becomes ``status: error`` with
    ``error_kind: data`` and a message naming ``where`` and the cause: it was no answer, so it is
    counted as an error, never scored as a wrong one.
    """
    if not isinstance(row, Mapping):
        raise RecordError(f"{where}: expected an object, got {type(row).__name__}")
    for name in ("qa_id", "model"):
        if not isinstance(row.get(name), str) or not row.get(name):
            raise RecordError(f"{where}: missing or non-text field {name!r}")
    out = dict(row)
    out.setdefault("status", OK)
    value = out.get("prediction")
    cause = None
    if "prediction" not in out:
        cause = "no 'prediction' field"
    elif value is None:
        cause = "prediction is null"
    elif not isinstance(value, str):
        cause = f"prediction is {type(value).__name__}, not text"
    elif len(value) > MAX_PREDICTION_CHARS:
        cause = f"prediction is {len(value)} characters (more than {MAX_PREDICTION_CHARS})"
    if cause is not None and out["status"] == OK:
        out.update(prediction="", status=ERROR, error=f"{where}: {cause}", error_kind=DATA_ERROR)
    elif cause is not None:  # already an error: keep its message, make the value a text
        out["prediction"] = ""
    Prediction.from_dict(out, where)
    return out


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


def index_by(records: Iterable[dict[str, Any]], key: str = "qa_id",
             source: str = "records") -> dict[str, dict[str, Any]]:
    """Index records by ``key``; a duplicate key is an error, never a silent overwrite."""
    out: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(records, start=1):
        k = rec[key]
        if k in out:
            raise RecordError(f"{source}, item {i}: duplicate {key} {k!r}")
        out[k] = rec
    return out


def index_by_item(records: Iterable[Mapping[str, Any]], source: str = "records",
                  value: str | None = None) -> dict[ItemKey, Any]:
    """``{(model, qa_id): record}``, or ``{(model, qa_id): record[value]}``.

    The one place records are keyed by item. A second record for one key is an error naming
    ``source`` (the file or dataset), the model, the qa_id and both positions: keeping either
    would make the result depend on file order.
    """
    out: dict[ItemKey, Any] = {}
    position: dict[ItemKey, int] = {}
    for i, record in enumerate(records, start=1):
        key = (record["model"], record["qa_id"])
        if key in out:
            raise RecordError(f"{source}: duplicate record for model {key[0]!r}, qa_id {key[1]!r} "
                              f"(its items {position[key]} and {i})")
        out[key], position[key] = (record if value is None else record[value]), i
    return out


def decisions_by_item(rows: Iterable[Mapping[str, Any]],
                      source: str = "jury decisions") -> dict[ItemKey, str]:
    """``{(model, qa_id): decision}`` from the jury's decision rows (``Decision.to_dict``)."""
    return index_by_item(rows, source, value="decision")


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
