"""What an answer answered: a question's fingerprint, and the joins that check it.

CT-SpatialVQA's qa_ids are positions within a case, so an id names an item but does not prove it
is the same item: remove a question and every later one on that volume takes its neighbour's id.
Every prediction therefore carries the fingerprint of what it answered (the volume's content,
the case, the normalised question text, the answer type); a resume, a merge, judging, metrics and
the report join an answer to a question by (model, qa_id) only where that fingerprint matches
the QA set in force.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from ct_spatial_bench.records import Prediction, QAItem, case_id_from_image_path, entry_of, qa_item

logger = logging.getLogger(__name__)


def normalise_question(text: str) -> str:
    """A question's text in one spelling: Unicode NFKC, runs of white space as one space, no
    leading or trailing space. Case is kept: it can change what a model reads."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


def answer_type(item: Mapping[str, Any]) -> str:
    """What kind of answer a QA item asks for: its declared ``answer_type`` (the mask track's
    ``closed``/``number``), else ``closed`` where the reference answer opens with yes or no,
    else ``open``."""
    declared = item.get("answer_type") or (item.get("meta") or {}).get("answer_type")
    if declared:
        return str(declared)
    first = normalise_question(item.get("answer") or "").split(" ", 1)[0].strip(".,;:!").lower()
    return "closed" if first in ("yes", "no") else "open"


def question_fingerprint(item: QAItem | Mapping[str, Any], volume_fingerprint: str | None) -> str:
    """What a question asks, as a short hash: the content fingerprint of its volume (None where
    the model reads none), its case, its normalised text and its answer type. The reference
    answer is left out: it decides the verdict, not the answer."""
    item = qa_item(item)
    case = item.case_id or case_id_from_image_path(item.image_path or "")
    blob = json.dumps([volume_fingerprint or "", str(case), normalise_question(item.question),
                       answer_type(item)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def answers_question(prediction: Prediction | Mapping[str, Any],
                     item: QAItem | Mapping[str, Any]) -> bool:
    """Whether ``prediction`` answers ``item`` as the QA set asks it now.

    A prediction carries the fingerprint of the question it answered, recomputed here from the
    item and the prediction's volume fingerprint. One written before fingerprints existed is
    trusted only where its recorded prompt holds the item's question text as it is now (every
    adapter puts the question into its prompt verbatim; an error's prompt is the question).
    """
    prediction, item = Prediction.from_dict(prediction, "prediction"), qa_item(item)
    recorded = prediction.question_fingerprint
    if recorded:
        return recorded == question_fingerprint(item, prediction.volume_fingerprint)
    question = normalise_question(item.question or "")
    return bool(question) and question in normalise_question(prediction.prompt or "")


def current_predictions(qa_items: Iterable[Mapping[str, Any]],
                        predictions: Iterable[dict[str, Any]],
                        stage: str) -> list[dict[str, Any]]:
    """The predictions that answer a question of the QA set in force, in their order.

    The others are left out, never scored, and listed in the log (how many per reason and the
    first few): a prediction whose qa_id is no longer in the QA set, and one whose question
    changed since it was answered (edited, moved to another volume, or another question now
    under its qa_id after a reorder). Joins are by (model, qa_id), each prediction on its own:
    one model's stale answer never removes another model's.
    """
    by_id = {item.qa_id: item for item in map(qa_item, qa_items)}
    kept: list[dict[str, Any]] = []
    gone: list[str] = []
    changed: list[str] = []
    for prediction in predictions:
        item = by_id.get(prediction["qa_id"])  # rows or records: each kept as it came
        name = f"{entry_of(prediction)}/{prediction['qa_id']}"
        if item is None:
            gone.append(name)
        elif not answers_question(prediction, item):
            changed.append(name)
        else:
            kept.append(prediction)
    for names, why in ((gone, "answer qa_ids no longer in the QA set"),
                       (changed, "answer questions that changed since they were answered")):
        if names:
            logger.warning("%s: %d prediction(s) %s; left out, not scored (rerun their "
                           "inference to ask them again): %s%s", stage, len(names), why,
                           ", ".join(names[:5]), ", ..." if len(names) > 5 else "")
    return kept
