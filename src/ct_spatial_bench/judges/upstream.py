"""Upstream's prediction and verdict files, which carry no ids, joined by key, never by position.

Upstream prediction rows have ``image_path``, ``question``, ``answer``, ``prediction``; its
verdict rows have ``question``, ``answer``, ``prediction``, ``is_correct`` (true/false/null).
A row is matched on (case, question, answer, prediction) as far as it carries them; identical rows
(the same question asked twice of one case) are told apart by their order among themselves only,
so a shorter or shifted file can no longer move a verdict onto the wrong item, which is what
changed upstream's published M3D and Med3DVLM figures.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from ct_spatial_bench.records import (CORRECT, FAILED, INCORRECT, Prediction, QAItem,
                                      RecordError, Verdict, qa_item)

UPSTREAM_VERDICT = {True: CORRECT, False: INCORRECT, None: FAILED}


def occurrence_keys(rows: Iterable[Any], key: Callable[[Any], Hashable]) -> list[tuple]:
    """``(key(row), n)`` where n counts earlier rows with the same key: repeats stay distinct."""
    seen: dict[Hashable, int] = defaultdict(int)
    out = []
    for row in rows:
        k = key(row)
        out.append((k, seen[k]))
        seen[k] += 1
    return out


def upstream_case_id(row: Mapping[str, Any]) -> str:
    """The CT-RATE volume a row is about (upstream wrote ``.npy`` paths for preprocessed
    volumes)."""
    return _case_of(row.get("case_id"), row.get("image_path", ""))


def _case_of(case_id: Any, image_path: Any) -> str:
    """``upstream_case_id`` of a row's case and image path, whether a raw row or a record holds
    them."""
    if case_id:
        return str(case_id)
    name = os.path.basename(str(image_path))
    return name[:-len(".npy")] + ".nii.gz" if name.endswith(".npy") else name


# Upstream's raw rows (CSV/JSON, before they become records) are read by key; the records they
# are matched to by attribute. A prediction made by ``predictions_from_upstream`` keeps its
# row's case, question and answer in ``extra`` (they are not prediction fields).

def _qa_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return upstream_case_id(row), row["question"], row["answer"]


def _item_key(item: QAItem) -> tuple[str, str, str]:
    return _case_of(item.case_id, item.image_path), item.question, item.answer


def _text_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return row["question"], row["answer"], row.get("prediction") or ""


def _prediction_text_key(pred: Prediction) -> tuple[str, str, str]:
    return pred.extra["question"], pred.extra["answer"], pred.prediction or ""


def _case_text_key(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return upstream_case_id(row), *_text_key(row)


def _prediction_case_text_key(pred: Prediction) -> tuple[str, str, str, str]:
    case = _case_of(pred.extra.get("case_id"), pred.extra.get("image_path", ""))
    return case, *_prediction_text_key(pred)


def _match(index: dict, keys: Sequence[tuple], source: str) -> list[Any]:
    out = []
    for line, key in enumerate(keys, start=1):
        if key not in index:
            raise RecordError(f"{source}, row {line}: no match for {key[0]!r} "
                              f"(occurrence {key[1] + 1})")
        out.append(index[key])
    return out


def predictions_from_upstream(qa_items: Sequence[Mapping[str, Any]],
                              rows: Sequence[dict[str, Any]], model: str,
                              source: str = "upstream predictions") -> list[dict[str, Any]]:
    """Prediction records with ``qa_id``, matched on (case, question, answer) and order."""
    items = [qa_item(item) for item in qa_items]  # rows too (a test's, a script's)
    qa_id_of = dict(zip(occurrence_keys(items, _item_key), (i.qa_id for i in items)))
    qa_ids = _match(qa_id_of, occurrence_keys(rows, _qa_key), source)
    return [Prediction(qa_id, model, row.get("prediction") or "", prompt=row["question"],
                       model_revision="upstream",
                       extra={"case_id": upstream_case_id(row), "question": row["question"],
                              "answer": row["answer"]}).to_dict()
            for qa_id, row in zip(qa_ids, rows)]


def verdicts_from_upstream(predictions: Sequence[Mapping[str, Any]],
                           rows: Sequence[dict[str, Any]], judge: str,
                           source: str = "upstream verdicts") -> list[dict[str, Any]]:
    """Verdict records for ``predictions`` (from ``predictions_from_upstream``), one per row,
    matched on (case if the row has one, question, answer, prediction) and order."""
    predictions = [Prediction.from_dict(p) for p in predictions]  # rows too
    with_case = any(r.get("image_path") or r.get("case_id") for r in rows)
    pred_key, row_key = ((_prediction_case_text_key, _case_text_key) if with_case
                         else (_prediction_text_key, _text_key))
    pred_of = dict(zip(occurrence_keys(predictions, pred_key), predictions))
    matched = _match(pred_of, occurrence_keys(rows, row_key), source)
    return [Verdict(pred.qa_id, pred.model, judge, judge_model=judge,
                    verdict=_verdict(row.get("is_correct"), source, line),
                    reason=str(row.get("reasoning") or ""), prompt_version="upstream",
                    variant=pred.variant).to_dict()
            for line, (pred, row) in enumerate(zip(matched, rows), start=1)]


def _verdict(value: Any, source: str, line: int) -> str:
    if value not in UPSTREAM_VERDICT:
        raise RecordError(f"{source}, row {line}: is_correct {value!r} is not true, false or null")
    return UPSTREAM_VERDICT[value]
