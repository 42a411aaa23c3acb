"""The records every stage exchanges, their one vocabulary, and their loaders.

JSON Lines is the canonical form on disk; in memory the records are typed: ``QAItem``,
``Prediction``, ``Verdict`` and ``Decision``, each with ``from_dict`` (checked, naming the file and
line of a bad one) and ``to_dict`` (its JSONL row). A record read from a row writes that row back
byte for byte (its fields, its extra fields, their order), so files written before the records
were typed load and save unchanged. The datasets load them (``datasets.QADataset``,
``PredictionsDataset``, ``RecordsDataset``) and every JSON Lines dataset saves them. Records are
joined by ``qa_id`` or by ``(entry, qa_id)`` (``index_by_item``), never by position.

An entry is what a table shows as one model: the model under a variant (``entry_of``: ``m3d``,
or ``m3d_blind`` for its blind control). A variant is a field, never a suffix in the model's
name, so every stage that groups or joins by model groups by the entry: a model's sighted and
blind answers never merge.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

# The QA JSONL fields every item has, in order (``QAItem`` adds two written only when set).
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

ItemKey = tuple[str, str]  # (entry, qa_id): one entry's answer to one question (``entry_of``)

# The variant of a model's blind control (inference.blind_control): the same model and prompt
# with the image blanked or withheld.
BLIND_VARIANT = "blind"
# Files written before the blind control's variant was a field named its records
# ``<model>_blind`` (blind_control's blind_name made every such name; nothing else ends so).
LEGACY_BLIND_SUFFIX = "_blind"


class RecordError(ValueError):
    """A record that cannot be used; the message names where it came from."""


def _where(source: str | os.PathLike | None, line: int | None) -> str:
    if source is None:
        return f"item {line}" if line is not None else "record"
    return f"{source}:{line}" if line is not None else str(source)


def entry_label(model: str, variant: str | None) -> str:
    """The label of ``model`` under ``variant``: the model's name alone without a variant,
    ``<model>_<variant>`` with one (``m3d_blind``, as tables showed the blind control when its
    variant was part of its name, so they read as before)."""
    return model if variant is None else f"{model}_{variant}"


def entry_of(record: Mapping[str, Any]) -> str:
    """The entry a prediction, verdict or decision (a record or its row) belongs to: what every
    stage groups and joins by, and the label tables show for it (``entry_label``)."""
    if isinstance(record, (Prediction, Verdict, Decision)):  # attributes: no row to build
        return entry_label(record.model, record.variant)
    return entry_label(record["model"], record.get("variant"))


def _read_legacy_blind(cls: type, row: Mapping[str, Any]) -> Mapping[str, Any]:
    """An older file's blind-control row read with its variant as a field: ``model:
    "x_blind"`` becomes model ``x``, variant ``blind`` (a prediction only where it says
    ``blind: true``, as every blind control's did). The one place that suffix is read; the
    entry (``entry_of``) stays ``x_blind``, so joins and tables are unchanged."""
    model = row.get("model")
    if (cls is QAItem or row.get("variant") is not None or not isinstance(model, str)
            or not model.endswith(LEGACY_BLIND_SUFFIX) or model == LEGACY_BLIND_SUFFIX
            or (cls is Prediction and row.get("blind") is not True)):
        return row
    return {**row, "model": model.removesuffix(LEGACY_BLIND_SUFFIX), "variant": BLIND_VARIANT}


def make_qa_id(case_id: str, index: int) -> str:
    """The upstream question_id form: ``valid_1000_a_1.nii.gz::0``."""
    return f"{case_id}::{index}"


def case_id_from_image_path(image_path: str) -> str:
    return os.path.basename(str(image_path))


# Other spellings of QA fields that the accepted forms use; read into the field, not kept beside.
_QA_ALIASES = ("question_id", "category")


def normalise_qa_items(
    rows: Iterable[Mapping[str, Any]], source: str | os.PathLike | None = None
) -> list[QAItem]:
    """Turn rows in any accepted form into ``QAItem`` records with every field, checking each.

    Accepted forms: canonical QA items; the seeds' ``{image_path, question, answer, meta}``;
    upstream's ``{case_id, image_path, question, answer}``. A missing ``qa_id`` is made from the
    case and the row's index among that case's rows, in file order (upstream's question_id). A
    field outside these forms is kept in the item's ``extra``, so it is saved back as it was read.
    """
    items: list[QAItem] = []
    per_case: dict[str, int] = {}
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=1):
        where = _where(source, line)
        if not isinstance(row, Mapping):
            raise RecordError(f"{where}: expected an object, got {type(row).__name__}")
        for name in ("question", "answer"):
            if not isinstance(row.get(name), str):
                raise RecordError(f"{where}: missing or non-text field {name!r}")
        if not row["question"].strip():
            raise RecordError(f"{where}: the question is empty")
        image_path = row.get("image_path")
        case_id = row.get("case_id") or (case_id_from_image_path(image_path) if image_path
                                         else None)
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
        answer_type = row.get("answer_type")
        items.append(QAItem(
            qa_id=str(qa_id),
            case_id=str(case_id),
            image_path=str(image_path) if image_path else "",
            question=row["question"],
            answer=row["answer"],
            categories=list(categories),
            source=row.get("source") or "",
            meta=meta,
            answer_type=str(answer_type) if answer_type else None,
            extra={k: v for k, v in row.items()
                   if k not in QAItem.FIELDS and k not in _QA_ALIASES and k != "extra"},
        ))
    return items


R = TypeVar("R", bound="_Record")


class _Record(Mapping):
    """What the typed records share: ``FIELDS`` in JSONL order, ``REQUIRED`` of them in every
    row, and ``extra`` for the fields a stage adds beside them (a probe's ``probe`` settings,
    upstream's extra columns), kept so that ``from_dict(row).to_dict()`` loses nothing.

    A record read from a row remembers the row's keys in their order (``key_order``), so it is
    written back byte for byte as it was read: an old file's row keeps its fields, gains none
    it did not have, and keeps their order. A record made in code writes ``FIELDS`` then
    ``extra``.

    A record also reads as a read-only mapping of that JSONL form (``record["qa_id"]``,
    ``record.get("variant")``): the modules not yet converted to attributes read records as
    they read rows (``benchmarks/record_key_reads.py`` counts them); nothing can write into one.
    """

    FIELDS: ClassVar[tuple[str, ...]]
    REQUIRED: ClassVar[tuple[str, ...]]
    # Fields written only when set, so rows that never had them stay as they were on disk.
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ()
    model: str
    qa_id: str
    extra: dict[str, Any]
    key_order: tuple[str, ...] | None

    @classmethod
    def from_dict(cls: type[R], row: Mapping[str, Any], where: str = "") -> R:
        where = where or cls.__name__.lower()
        if not isinstance(row, Mapping):
            raise RecordError(f"{where}: expected an object, got {type(row).__name__}")
        if isinstance(row, cls):
            return row
        missing = [f for f in cls.REQUIRED if f not in row]
        if missing:
            raise RecordError(f"{where}: missing field(s) {missing}")
        row = _read_legacy_blind(cls, row)
        record = cls(**{f: row[f] for f in cls.FIELDS if f in row},
                     extra={k: v for k, v in row.items() if k not in cls.FIELDS},
                     key_order=tuple(row))
        record.check(where)
        return record

    def check(self, where: str) -> None:
        """Raise naming ``where`` when a field holds a value outside its vocabulary."""

    def to_dict(self) -> dict[str, Any]:
        """The record's JSONL row (a new dict: changing it leaves the record alone)."""
        if self.key_order is None:
            return {**{f: getattr(self, f) for f in self.FIELDS
                       if f not in self.WRITTEN_WHEN_SET or getattr(self, f) is not None},
                    **self.extra}
        row: dict[str, Any] = {}
        for key in self.key_order:  # the row it was read from, in its order
            if key in self.FIELDS:
                row[key] = getattr(self, key)
            elif key in self.extra:
                row[key] = self.extra[key]
        for name in self.FIELDS:  # then what was set since (``dataclasses.replace``)
            if name not in row and getattr(self, name) != _default_of(type(self), name):
                row[name] = getattr(self, name)
        row.update({k: v for k, v in self.extra.items() if k not in row})
        return row

    def _row(self) -> dict[str, Any]:
        cached = self.__dict__.get("_row_cache")
        if cached is None:
            cached = self.to_dict()
            object.__setattr__(self, "_row_cache", cached)
        return cached

    def __getitem__(self, key: str) -> Any:
        return self._row()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._row())

    def __len__(self) -> int:
        return len(self._row())

    # Equal as the rows they write (``Mapping``'s equality): a record equals its own row.
    __hash__ = None  # type: ignore[assignment]  # lists and dicts inside: not hashable

    @property
    def key(self) -> ItemKey:
        return entry_of(self), self.qa_id


def _fields_of(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name not in ("extra", "key_order"))


def _default_of(cls: type, name: str) -> Any:
    spec = cls.__dataclass_fields__[name]
    if spec.default is not MISSING:
        return spec.default
    return spec.default_factory() if spec.default_factory is not MISSING else MISSING


def _key_order() -> Any:
    """The ``key_order`` field: not compared, not shown (it is how a row was spelt, not what it
    says)."""
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class QAItem(_Record):
    """One benchmark question about one volume, with its reference answer.

    ``answer_type`` is declared by the mask track (``closed``/``number``); elsewhere it is read
    off the answer (``identity.answer_type``). ``volume_fingerprint`` is set by the inference
    engine for the run (the content of the volume the model's input was made from); QA files
    never carry it.
    """

    qa_id: str
    case_id: str = ""
    image_path: str = ""
    question: str = ""
    answer: str = ""
    categories: list[str] = field(default_factory=list)
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    answer_type: str | None = None
    volume_fingerprint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] | None = _key_order()

    # Only the key: a stage's own rows (a probe's, a test's) may carry only what it reads; QA
    # files are read through ``normalise_qa_items``, which requires and checks every field.
    REQUIRED: ClassVar[tuple[str, ...]] = ("qa_id",)
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("answer_type", "volume_fingerprint")

    def check(self, where: str) -> None:
        for name in ("qa_id", "question", "answer"):
            if not isinstance(getattr(self, name), str):
                raise RecordError(f"{where}: missing or non-text field {name!r}")

    @property
    def key(self) -> str:  # type: ignore[override]  # a question is one qa_id, whoever answers
        return self.qa_id


def qa_item(item: Mapping[str, Any], where: str = "QA item") -> QAItem:
    """``item`` as a ``QAItem``: a QAItem as it is, a row read field by field (no form
    accepted beyond the canonical one: ``normalise_qa_items`` reads the others)."""
    return QAItem.from_dict(item, where)


@dataclass(frozen=True, eq=False)
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
    # twin of (``model`` itself: kept, every prediction file has it), whether the image was
    # withheld, the variant (a probe's, or ``blind``: BLIND_VARIANT), token counts, the content of
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
    # What inference stamps on every answer and other stages read: the input spec the model read
    # (None: no image), the run signature a resume checks, the parameters/dtype/memory figures.
    input_spec: str | None = None
    run_signature: str | None = None
    efficiency: dict[str, Any] | None = None
    # decoding stopped at max_new_tokens (the answer may be cut); only where the adapter knows
    hit_token_limit: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] | None = _key_order()

    REQUIRED: ClassVar[tuple[str, ...]] = ("qa_id", "model", "prediction", "status")
    # Predictions made outside inference (upstream's, read for reproduce) never had the stamps;
    # hit_token_limit is known only to some adapters.
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("input_spec", "run_signature", "efficiency",
                                                   "hit_token_limit")

    @property
    def input_unusable(self) -> bool:
        """No answer because the item's input could not be used (a data error, not the model's)."""
        return self.error_kind == DATA_ERROR

    @property
    def call_failed(self) -> bool:
        """No answer because the model call failed (an infrastructure error: worth a rerun)."""
        return self.error_kind == INFRASTRUCTURE_ERROR

    def check(self, where: str) -> None:
        if self.status not in PREDICTION_STATUSES:
            raise RecordError(f"{where}: status {self.status!r} not in {PREDICTION_STATUSES}")
        if self.error_kind is not None and self.error_kind not in ERROR_KINDS:
            raise RecordError(f"{where}: error_kind {self.error_kind!r} not in {ERROR_KINDS}")


@dataclass(frozen=True, eq=False)
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
    # The variant of the prediction judged (``Prediction.variant``: a probe's, or ``blind``):
    # several variants of one model share its name; the item's key is its entry's (``entry_of``).
    variant: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] | None = _key_order()

    REQUIRED: ClassVar[tuple[str, ...]] = ("qa_id", "model", "judge", "verdict")
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("variant",)

    def check(self, where: str) -> None:
        if self.verdict not in VERDICTS:
            raise RecordError(f"{where}: verdict {self.verdict!r} not in {VERDICTS}")


@dataclass(frozen=True, eq=False)
class Decision(_Record):
    """The jury's decision on one prediction under ``rule`` (judges.jury.RULES)."""

    model: str
    qa_id: str
    rule: str
    decision: str
    variant: str | None = None  # the variant of the prediction decided on (``Verdict.variant``)
    extra: dict[str, Any] = field(default_factory=dict)
    key_order: tuple[str, ...] | None = _key_order()

    REQUIRED: ClassVar[tuple[str, ...]] = ("model", "qa_id", "rule", "decision")
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("variant",)

    def check(self, where: str) -> None:
        if self.decision not in VERDICTS:
            raise RecordError(f"{where}: decision {self.decision!r} not in {VERDICTS}")


# The JSONL field names, in order, read off the dataclasses so they are written once.
for _cls in (QAItem, Prediction, Verdict, Decision):
    _cls.FIELDS = _fields_of(_cls)


def with_variant(prediction: Prediction, variant: str, probe: Any) -> Prediction:
    """A probe's prediction: ``prediction`` under the probe's ``variant`` (a field, never a suffix
    on the model's name), with the probe's settings beside it (``probe``)."""
    from dataclasses import replace

    return replace(prediction, variant=variant, extra={**prediction.extra, "probe": probe})


def as_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records (``to_dict``) and rows alike as JSONL rows: what writers call at the disk's edge."""
    return [r.to_dict() if isinstance(r, _Record) else r for r in records]


def checked_prediction(row: Mapping[str, Any], where: str) -> Prediction:
    """A prediction row as read from ``where`` (a file and line), its value checked at the door:
    the ``Prediction`` it holds (written back, the row as it was, plus any fields set here).

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
    return Prediction.from_dict(out, where)


def as_prediction(row: Mapping[str, Any], where: str = "prediction") -> Prediction:
    """``row`` as a ``Prediction``, for a stage that only reads it (metrics, reports): a
    Prediction as it is; a row made by hand (a test's, a script's) read field by field.

    Such rows have long been allowed to leave out ``status`` (read as ok, as
    ``checked_prediction`` reads it) and, when the text is not what is read, ``prediction``
    (read as None, what ``row.get("prediction")`` gave); the record keeps its other checks.
    Nothing is written back from here, so the filled-in fields never reach a file.
    """
    if isinstance(row, Prediction):
        return row
    if isinstance(row, Mapping) and ("status" not in row or "prediction" not in row):
        row = {"status": OK, "prediction": None, **row}
    return Prediction.from_dict(row, where)


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


def load_qa_items(path: str | os.PathLike) -> list[QAItem]:
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
    """``{(entry, qa_id): record}``, or ``{(entry, qa_id): record[value]}`` (``entry_of``).

    The one place records are keyed by item. A second record for one key is an error naming
    ``source`` (the file or dataset), the entry, the qa_id and both positions: keeping either
    would make the result depend on file order.
    """
    out: dict[ItemKey, Any] = {}
    position: dict[ItemKey, int] = {}
    for i, record in enumerate(records, start=1):
        key = (entry_of(record), record["qa_id"])
        if key in out:
            raise RecordError(f"{source}: duplicate record for model {key[0]!r}, qa_id {key[1]!r} "
                              f"(its items {position[key]} and {i})")
        out[key], position[key] = (record if value is None else record[value]), i
    return out


def decisions_by_item(rows: Iterable[Mapping[str, Any]],
                      source: str = "jury decisions") -> dict[ItemKey, str]:
    """``{(entry, qa_id): decision}`` from the jury's decision rows (``Decision.to_dict``)."""
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
