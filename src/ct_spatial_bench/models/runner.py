"""Runs a model adapter over QA items, volume by volume: each input loaded and checked once, all
of a volume's questions asked in one ``answer_volume`` call, every answer checkpointed.

A failure is never an answer: an input that cannot be loaded or holds non-finite values makes
its items ``error`` with ``error_kind: data``; a failing model call makes them ``error`` with
``error_kind: infrastructure`` (after the volume's questions are retried one by one, so one bad
question does not fail its neighbours). Every finished volume is appended to the checkpoint
before the next starts, so a killed run resumes where it stopped and re-pays nothing. A
checkpointed answer is reused only under the same run signature (``models.checkpoint``) and for
an input of the same content (its fingerprint), so a replaced volume is asked again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from ct_spatial_bench.models.checkpoint import append_rows, read_checkpoint, run_signature

logger = logging.getLogger(__name__)

DATA_ERROR, INFRASTRUCTURE_ERROR = "data", "infrastructure"


class InputError(ValueError):
    """A volume's input that cannot be used (missing, unreadable, non-finite values)."""


def run_model(
    adapter: ModelAdapter,
    items: list[dict[str, Any]],
    load_image: Callable[[str], Any] | None,
    config: dict[str, Any],
    checkpoint: str | Path | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Answer every QA item with the loaded ``adapter``; one prediction per item, in QA order.

    ``load_image(image_path)`` returns the preprocessed input of one volume (None: the model
    reads no image); it is called once per volume however many questions the volume has.
    """
    description = adapter.describe()
    signature = run_signature(adapter.name, description, config)
    checkpoint_path = Path(checkpoint) if checkpoint else None
    saved = read_checkpoint(checkpoint_path, signature)
    predictions: dict[str, dict[str, Any]] = {}
    resumed = 0
    with _progress(len(items), f"inference {adapter.name}", progress) as bar:
        for image_key, group in _group_by_image(items, load_image is not None):
            image, fingerprint, input_error = None, None, None
            if load_image is not None:
                image, fingerprint, input_error = _load_checked(load_image, image_key)
            reusable = {item["qa_id"]: saved[item["qa_id"]] for item in group
                        if item["qa_id"] in saved and input_error is None
                        and saved[item["qa_id"]].get("input_fingerprint") == fingerprint}
            predictions.update(reusable)
            resumed += len(reusable)
            todo = [item for item in group if item["qa_id"] not in reusable]
            if todo:
                rows = _answer_volume(adapter, todo, image, fingerprint, input_error,
                                      description, signature)
                append_rows(checkpoint_path, rows)
                predictions.update((row["qa_id"], row) for row in rows)
            bar.update(len(group))
    if resumed:
        logger.info("%s: %d of %d predictions resumed from %s", adapter.name, resumed,
                    len(items), checkpoint_path)
    return [predictions[item["qa_id"]] for item in items]


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
        if data.dtype.kind in "fc" and not np.isfinite(data).all():
            raise InputError(f"{int((~np.isfinite(data)).sum())} non-finite values")
        digest.update(f"{data.shape}{data.dtype}".encode())
        digest.update(np.ascontiguousarray(data).tobytes())
        if affine is not None:
            digest.update(np.asarray(affine, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _answer_volume(adapter, items, image, fingerprint, input_error, description, signature):
    """The predictions of one volume's items: answered together, retried one by one on failure."""
    questions = [Question(item["qa_id"], item["question"]) for item in items]
    started = time.perf_counter()
    answers: list[Answer | None] = [None] * len(items)
    errors: list[str | None] = [input_error] * len(items)
    if input_error is None:
        try:
            answers = list(adapter.answer_volume(image, questions))
            if len(answers) != len(questions):
                raise RuntimeError(f"returned {len(answers)} answers for {len(questions)} "
                                   "questions")
        except Exception as exc:  # noqa: BLE001 - isolate the failing question
            answers, errors = _one_by_one(adapter, image, questions, exc)
    latency = (time.perf_counter() - started) / max(1, len(items))
    run_fields = {"base_model": adapter.base_model, "blind": adapter.blind,
                  "efficiency": _efficiency(adapter)}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    kind = DATA_ERROR if input_error is not None else INFRASTRUCTURE_ERROR
    return [
        {
            "qa_id": item["qa_id"],
            "model": adapter.name,
            "prediction": answer.text if answer is not None else "",
            "status": "ok" if error is None else "error",
            "error": error,
            "prompt": answer.prompt if answer is not None else item["question"],
            "generation": description.get("generation", {}),
            "model_revision": description.get("model_revision", ""),
            "input_spec": adapter.input_spec,
            "latency_s": round(latency, 6),
            "timestamp": now,
            "run_signature": signature,
            **run_fields,
            "error_kind": None if error is None else kind,
            "input_fingerprint": fingerprint,
            "tokens": answer.tokens() if answer is not None else None,
        }
        for item, answer, error in zip(items, answers, errors)
    ]


def _one_by_one(adapter, image, questions, first_error):
    if len(questions) == 1:
        logger.error("%s failed on %s: %s", adapter.name, questions[0].qa_id, first_error)
        return [None], [f"{type(first_error).__name__}: {first_error}"]
    answers: list[Answer | None] = []
    errors: list[str | None] = []
    for question in questions:
        try:
            [answer] = adapter.answer_volume(image, [question])
            answers.append(answer)
            errors.append(None)
        except Exception as exc:  # noqa: BLE001
            answers.append(None)
            errors.append(f"{type(exc).__name__}: {exc}")
            logger.error("%s failed on %s: %s", adapter.name, question.qa_id, exc)
    return answers, errors


def _efficiency(adapter: ModelAdapter) -> dict[str, Any] | None:
    """Parameters, dtype, device, peak GPU memory so far; a figure we cannot read must not fail
    an item."""
    try:
        return adapter.efficiency()
    except Exception as exc:  # noqa: BLE001
        logger.warning("%s: efficiency figures unavailable: %s", adapter.name, exc)
        return None


def _group_by_image(items: list[dict[str, Any]], needs_image: bool) -> Iterable[tuple[str, list]]:
    if not needs_image:
        yield "", items
        return
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["image_path"], []).append(item)
    yield from groups.items()


class _progress:
    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc, disable=not enabled or total == 0, leave=False)

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
