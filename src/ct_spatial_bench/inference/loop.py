"""Runs a model adapter over QA items, volume by volume: each input loaded and checked once, all
of a volume's questions asked in one ``answer_volume`` call, every answer checkpointed as it
arrives (before the adapter asks its next question, when the adapter yields them).

A failure is never an answer: an input that cannot be loaded or holds non-finite values makes
its items ``error`` with ``error_kind: data``; a failing model call makes them ``error`` with
``error_kind: infrastructure`` (after the volume's questions are retried one by one, so one bad
question does not fail its neighbours). Every answer is appended to the checkpoint as it
arrives, so a killed run resumes where it stopped and re-pays nothing. A checkpointed answer is
reused only under the same run signature (``inference.checkpoint``: the prompt template included),
for an input of the same content (its fingerprint), and for the same question
(``identity.question_fingerprint``): a replaced volume, or an edited, moved or reordered
question, is asked again, and the log says how many and which.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ct_spatial_bench.identity import question_fingerprint
from ct_spatial_bench.inference.checkpoint import append_rows, read_checkpoint, run_signature
from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from ct_spatial_bench.records import (
    DATA_ERROR,
    ERROR,
    INFRASTRUCTURE_ERROR,
    OK,
    Prediction,
    QAItem,
    qa_item,
)
from ct_spatial_bench.secrets import redact_text

logger = logging.getLogger(__name__)

# The order of a prediction's fields on disk, as inference has written them since issue 21, so
# that files stay byte-identical whichever code wrote them.
ROW_ORDER = ("qa_id", "model", "prediction", "status", "error", "prompt", "generation",
             "model_revision", "input_spec", "latency_s", "timestamp", "run_signature",
             "base_model", "blind", "efficiency", "error_kind", "input_fingerprint",
             "volume_fingerprint", "question_fingerprint", "tokens")

__all__ = ["DATA_ERROR", "INFRASTRUCTURE_ERROR", "InputError", "image_loader", "run_model"]


class InputError(ValueError):
    """A volume's input that cannot be used (missing, unreadable, non-finite values)."""


def run_model(
    adapter: ModelAdapter,
    items: list[Mapping[str, Any]],
    load_image: Callable[[str], Any] | None,
    config: dict[str, Any],
    checkpoint: str | Path | None = None,
    progress: bool = True,
) -> list[Prediction]:
    """Answer every QA item with the loaded ``adapter``; one ``Prediction`` per item, in QA order.

    ``load_image(image_path)`` returns the preprocessed input of one volume (None: the model
    reads no image); it is called once per volume however many questions the volume has. An
    item's ``volume_fingerprint`` (the source volume's content, where the engine knows it) goes
    into its question fingerprint.
    """
    items = [qa_item(item) for item in items]  # a caller's rows become records here
    description = adapter.describe()
    signature = run_signature(adapter.name, description, config, adapter.prompt_template())
    checkpoint_path = Path(checkpoint) if checkpoint else None
    saved = read_checkpoint(checkpoint_path, signature)
    predictions: dict[str, Prediction] = {}
    resumed = 0
    changed: list[str] = []  # checkpointed under a qa_id whose question is no longer the same

    def store(prediction: Prediction) -> None:  # before the adapter asks its next question
        append_rows(checkpoint_path, [prediction])
        predictions[prediction.qa_id] = prediction

    with _progress(len(items), f"inference {adapter.name}", progress) as bar:
        for image_key, group in _group_by_image(items, load_image is not None):
            image, fingerprint, input_error = None, None, None
            if load_image is not None:
                image, fingerprint, input_error = _load_checked(load_image, image_key)
            reusable = {}
            for item in group:
                done = saved.get(item.qa_id)
                if done is None or input_error is not None \
                        or done.input_fingerprint != fingerprint:
                    continue
                if done.question_fingerprint != _question_of(item):
                    changed.append(item.qa_id)
                    continue
                reusable[item.qa_id] = done
            predictions.update(reusable)
            resumed += len(reusable)
            todo = [item for item in group if item.qa_id not in reusable]
            if todo:
                _answer_volume(adapter, todo, image, input_error,
                               _Stamp(adapter, description, signature, fingerprint), store)
            bar.update(len(group))
    if resumed:
        logger.info("%s: %d of %d predictions resumed from %s", adapter.name, resumed,
                    len(items), checkpoint_path)
    if changed:
        logger.warning("%s: %d question(s) changed since their checkpointed answers (edited, "
                       "moved or reordered); asked again: %s%s", adapter.name, len(changed),
                       ", ".join(changed[:5]), ", ..." if len(changed) > 5 else "")
    return [predictions[item.qa_id] for item in items]


def _question_of(item: QAItem) -> str:
    return question_fingerprint(item, item.volume_fingerprint)


def _load_checked(load_image: Callable[[str], Any],
                  image_key: str) -> tuple[Any, str | None, str | None]:
    """(input, content fingerprint, None) or (None, None, why it cannot be used)."""
    try:
        image = in_memory(load_image(image_key))
        return image, input_fingerprint(image), None
    except Exception as exc:  # noqa: BLE001 - a bad volume fails its own items only
        message = f"could not load input for {image_key}: {type(exc).__name__}: {exc}"
        logger.error(message)
        return None, None, message


def in_memory(image: Any) -> Any:
    """A NIfTI image with its voxels read once: fingerprinting and the model then share them
    instead of decoding the file twice."""
    import numpy as np

    if not hasattr(image, "dataobj") or isinstance(image.dataobj, np.ndarray):
        return image
    import nibabel as nib

    return nib.Nifti1Image(np.asanyarray(image.dataobj), image.affine, image.header)


def input_fingerprint(image: Any) -> str | None:
    """A hash of an input's content (voxels or pixels, shape, dtype, affine); raises
    ``InputError`` for non-finite values, which no model can be fairly asked about."""
    import numpy as np

    if image is None:
        return None
    digest = hashlib.blake2b(digest_size=16)
    for part in image if isinstance(image, (list, tuple)) else [image]:
        affine = getattr(part, "affine", None)
        data = np.asanyarray(part.dataobj) if hasattr(part, "dataobj") else np.asarray(part)
        if affine is not None:  # a volume: three axes and an invertible affine, or no input
            from ct_spatial_bench.imaging.checks import check_volume_geometry

            check_volume_geometry(data.shape, affine)
        if data.dtype.kind in "fc" and not np.isfinite(data).all():
            raise InputError(f"{int((~np.isfinite(data)).sum())} non-finite values")
        digest.update(f"{data.shape}{data.dtype}".encode())
        digest.update(np.ascontiguousarray(data).tobytes())
        if affine is not None:
            digest.update(np.asarray(affine, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _answer_volume(adapter, items, image, input_error, stamp, store) -> None:
    """Ask one volume's items together, storing each prediction as its answer arrives (an
    adapter that yields its answers gets each one stored before it asks the next question);
    after a failure the questions not yet answered are asked one by one, so one bad question
    fails alone."""
    if input_error is not None:
        for item in items:
            store(stamp.row(item, None, input_error, DATA_ERROR, 0.0))
        return
    questions = [Question(item.qa_id, item.question) for item in items]
    waiting = {item.qa_id: (item, question) for item, question in zip(items, questions)}
    started = time.perf_counter()
    try:
        for answer in adapter.answer_volume(image, questions):
            # an answer that names its question joins by that key (batched decoding yields them
            # as they finish); one that does not is the next question in order
            key = answer.qa_id if answer.qa_id is not None else next(iter(waiting), None)
            if key not in waiting:
                raise RuntimeError(f"answered {key!r}, which is not one of the questions "
                                   "still waiting")
            item, _ = waiting.pop(key)
            now = time.perf_counter()
            store(stamp.row(item, answer, None, None, now - started))
            started = now
        if waiting:
            raise RuntimeError(f"returned {len(items) - len(waiting)} answers for {len(items)} "
                               "questions")
    except Exception as exc:  # noqa: BLE001 - isolate the failing question
        rest = list(waiting.values())
        if len(rest) == 1:
            logger.error("%s failed on %s: %s", adapter.name, rest[0][1].qa_id, exc)
            store(stamp.row(rest[0][0], None, f"{type(exc).__name__}: {exc}",
                            INFRASTRUCTURE_ERROR, time.perf_counter() - started))
            return
        for item, question in rest:
            started = time.perf_counter()
            try:
                [answer] = adapter.answer_volume(image, [question])
                store(stamp.row(item, answer, None, None, time.perf_counter() - started))
            except Exception as exc:  # noqa: BLE001
                logger.error("%s failed on %s: %s", adapter.name, question.qa_id, exc)
                store(stamp.row(item, None, f"{type(exc).__name__}: {exc}",
                                INFRASTRUCTURE_ERROR, time.perf_counter() - started))


class _Stamp:
    """What every prediction of a run carries beside its answer."""

    def __init__(self, adapter: ModelAdapter, description: dict[str, Any], signature: str,
                 fingerprint: str | None) -> None:
        self.adapter, self.description = adapter, description
        self.signature, self.fingerprint = signature, fingerprint

    def row(self, item: QAItem, answer: Answer | None, error: str | None,
            error_kind: str | None, latency: float) -> Prediction:
        adapter = self.adapter
        return Prediction(
            qa_id=item.qa_id,
            model=adapter.base_model,  # the model's own name, a blind control's too (variant)
            prediction=answer.text if answer is not None else "",
            status=OK if error is None else ERROR,
            error=redact_text(error),  # a 401 body may echo the key (ct_spatial_bench.secrets)
            prompt=answer.prompt if answer is not None else item.question,
            generation=self.description.get("generation", {}),
            model_revision=self.description.get("model_revision", ""),
            input_spec=adapter.input_spec,
            latency_s=round(latency, 6),
            timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            run_signature=self.signature,
            base_model=adapter.base_model,
            blind=adapter.blind,
            variant=adapter.variant,
            efficiency=_efficiency(adapter),
            error_kind=error_kind,
            input_fingerprint=self.fingerprint,
            volume_fingerprint=item.volume_fingerprint,
            question_fingerprint=_question_of(item),
            tokens=answer.tokens() if answer is not None else None,
            # written only where the adapter can tell, after the fields above (ROW_ORDER)
            hit_token_limit=answer.hit_token_limit if answer is not None else None,
            key_order=ROW_ORDER,
        )


def _efficiency(adapter: ModelAdapter) -> dict[str, Any] | None:
    """Parameters, dtype, device, peak GPU memory so far; a figure we cannot read must not fail
    an item."""
    try:
        return adapter.efficiency()
    except Exception as exc:  # noqa: BLE001
        logger.warning("%s: efficiency figures unavailable: %s", adapter.name, exc)
        return None


def _group_by_image(items: list[QAItem], needs_image: bool) -> Iterable[tuple[str, list]]:
    if not needs_image:
        yield "", items
        return
    groups: dict[str, list[QAItem]] = {}
    for item in items:
        groups.setdefault(item.image_path, []).append(item)
    yield from groups.items()


class _progress:
    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc, leave=False,
                         disable=True if not enabled or total == 0 else None)

    def __enter__(self):
        return self._bar

    def __exit__(self, *exc):
        self._bar.close()


def image_loader(input_spec: str | None, model_inputs: Mapping[str, Callable[[], Any]] | None,
                 prefix: str = "") -> Callable[[str], Any] | None:
    """``image_path -> model input`` from the preprocessed ``model_inputs`` of ``input_spec``;
    None for a model that reads no image."""
    if input_spec is None:
        return None
    from ct_spatial_bench.records import volume_key

    def load_image(image_path: str) -> Any:
        key = volume_key(image_path, prefix)
        if key not in (model_inputs or {}):
            raise FileNotFoundError(
                f"no preprocessed {input_spec} input for {key!r}; "
                "run the preprocessing pipeline (or check its manifest for the error)")
        return model_inputs[key]()

    return load_image
