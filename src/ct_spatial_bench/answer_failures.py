"""What a run's failed answers say about the run: data errors are listed by volume, failed model
calls above the allowed share stop it (``InferenceFailed``), so infrastructure trouble is never
reported as a model's score. The last step of ``inference.engine.run_inference``.

It reads predictions through the small ``Outcome`` shape (``records.Prediction`` has it), so it
depends on no module of the project: the engine's settings only ever flow down to it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

logger = logging.getLogger(__name__)


class Outcome(Protocol):
    """What the check reads of a prediction."""

    qa_id: str
    error: str | None

    @property
    def input_unusable(self) -> bool: ...

    @property
    def call_failed(self) -> bool: ...


class InferenceFailed(RuntimeError):
    """More model calls failed than the run allows; what was answered is in the checkpoint."""


def check_failures(model: str, predictions: Sequence[Outcome], volume_of: Mapping[str, str],
                   max_share: float) -> None:
    """Log data errors by volume (``volume_of``: qa_id -> image path); raise ``InferenceFailed``
    when the share of failed model calls exceeds ``max_share``
    (``<model>.inference.max_infrastructure_error_share``)."""
    unusable: dict[str, list[str]] = {}
    for prediction in predictions:
        if prediction.input_unusable:
            unusable.setdefault(volume_of.get(prediction.qa_id, ""), []).append(prediction.qa_id)
    for volume, ids in sorted(unusable.items()):
        logger.warning("%s: %d question(s) on %s not asked: its input could not be used",
                       model, len(ids), volume)
    failed = [p for p in predictions if p.call_failed]
    if failed and len(failed) > max_share * len(predictions):
        raise InferenceFailed(
            f"{model}: {len(failed)} of {len(predictions)} model calls failed (allowed share "
            f"{max_share:g}, {model}.inference.max_infrastructure_error_share); first error: "
            f"{failed[0].error}. Answers made are checkpointed; a rerun asks only the rest.")
