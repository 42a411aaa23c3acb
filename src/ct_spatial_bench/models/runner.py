"""Runs a model adapter over QA items: one image load per volume, errors kept, checkpointed.

A failing item becomes a prediction with status ``error`` and the reason; the run goes on.
Every finished prediction is appended to a checkpoint file before the next batch starts, so a
killed run resumes where it stopped, without duplicates, and re-pays nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ct_spatial_bench.models.base import ModelAdapter, ModelInput
from ct_spatial_bench.secrets import redact_text

logger = logging.getLogger(__name__)


def run_signature(model: str, description: dict[str, Any], config: dict[str, Any]) -> str:
    """A short hash of everything that changes a model's answers; a checkpoint from another
    signature is never reused."""
    blob = json.dumps({"model": model, "describe": description, "config": config},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def read_checkpoint(path: Path | None, signature: str) -> dict[str, dict[str, Any]]:
    """Predictions already made under ``signature``; a torn last line (a crash) is ignored."""
    done: dict[str, dict[str, Any]] = {}
    if path is None or not path.is_file():
        return done
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("run_signature") == signature and row.get("status") == "ok":
                done[row["qa_id"]] = row
    return done


def run_model(
    adapter: ModelAdapter,
    items: list[dict[str, Any]],
    load_image: Callable[[str], Any] | None,
    config: dict[str, Any],
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Answer every QA item with ``adapter`` and return one prediction per item, in QA order.

    ``load_image(image_key)`` returns the preprocessed input of one volume; it is called once per
    volume however many questions the volume has. Items whose qa_id is in the checkpoint under
    the same run signature are not asked again; errored items are retried on a rerun.
    """
    description = adapter.describe()
    signature = run_signature(adapter.name, description, _public(config))
    checkpoint_path = Path(checkpoint) if checkpoint else None
    done = read_checkpoint(checkpoint_path, signature)
    todo = [item for item in items if item["qa_id"] not in done]
    if done:
        logger.info("%s: %d of %d predictions resumed from %s",
                    adapter.name, len(items) - len(todo), len(items), checkpoint_path)
    batch_size = int(config.get("batch_size", 8))
    made: dict[str, dict[str, Any]] = {}
    with _progress(len(todo), f"inference {adapter.name}", progress) as bar:
        for image_key, group in _group_by_image(todo, load_image is not None):
            image, image_error = None, None
            if load_image is not None:
                try:
                    image = load_image(image_key)
                except Exception as exc:  # noqa: BLE001 - a bad volume fails its items only
                    image_error = f"could not load input for {image_key}: {exc}"
                    logger.error(image_error)
            for start in range(0, len(group), batch_size):
                batch = group[start:start + batch_size]
                rows = _answer_batch(adapter, batch, image, image_error, description, signature)
                _append(checkpoint_path, rows)
                made.update((row["qa_id"], row) for row in rows)
                bar.update(len(batch))
    done.update(made)
    return [done[item["qa_id"]] for item in items]


def _answer_batch(adapter, batch, image, image_error, description, signature):
    inputs = [ModelInput(qa_id=i["qa_id"], question=i["question"], image=image) for i in batch]
    started = time.perf_counter()
    answers: list[str | None] = [None] * len(batch)
    errors: list[str | None] = [image_error] * len(batch)
    if image_error is None:
        try:
            answers = list(adapter.answer(inputs))
            if len(answers) != len(inputs):
                raise RuntimeError(f"returned {len(answers)} answers for {len(inputs)} inputs")
        except Exception as exc:  # noqa: BLE001 - retry one by one to isolate the failing item
            if len(inputs) == 1:
                answers, errors = [None], [f"{type(exc).__name__}: {exc}"]
                logger.error("%s failed on %s: %s", adapter.name, inputs[0].qa_id, exc)
            else:
                answers = []
            for one in inputs if len(inputs) > 1 else []:
                try:
                    answers.append(adapter.answer([one])[0])
                    errors[len(answers) - 1] = None
                except Exception as exc:  # noqa: BLE001
                    answers.append(None)
                    errors[len(answers) - 1] = f"{type(exc).__name__}: {exc}"
                    logger.error("%s failed on %s: %s", adapter.name, one.qa_id, exc)
    latency = (time.perf_counter() - started) / max(1, len(batch))
    prompts = getattr(adapter, "last_prompts", None) or [None] * len(batch)
    if len(prompts) != len(batch):  # a retry one by one leaves only the last item's prompt
        prompts = [None] * len(batch)
    run_fields = _run_fields(adapter)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return [
        {
            "qa_id": item["qa_id"],
            "model": adapter.name,
            "prediction": answer if answer is not None else "",
            "status": "ok" if error is None else "error",
            "error": redact_text(error),  # a 401 body may echo the key (ct_spatial_bench.secrets)
            "prompt": prompt if prompt is not None else item["question"],
            "generation": description.get("generation", {}),
            "model_revision": description.get("model_revision", ""),
            "input_spec": adapter.input_spec,
            "latency_s": round(latency, 6),
            "timestamp": now,
            "run_signature": signature,
            **run_fields,
        }
        for item, answer, error, prompt in zip(batch, answers, errors, prompts)
    ]


def _run_fields(adapter: ModelAdapter) -> dict[str, Any]:
    """Blind control markers and efficiency figures (parameters, dtype, device, peak GPU memory
    so far) of the run; the blind twin of a model shares its ``base_model``."""
    probe = getattr(adapter, "efficiency", None)
    efficiency = None
    if probe is not None:
        try:
            efficiency = probe()
        except Exception as exc:  # noqa: BLE001 - a figure we cannot read must not fail an item
            logger.warning("%s: efficiency figures unavailable: %s", adapter.name, exc)
    return {
        "base_model": getattr(adapter, "base_model", adapter.name),
        "blind": bool(getattr(adapter, "blind", False)),
        "efficiency": efficiency,
    }


def _group_by_image(items: list[dict[str, Any]], needs_image: bool) -> Iterable[tuple[str, list]]:
    if not needs_image:
        yield "", items
        return
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["image_path"], []).append(item)
    yield from groups.items()


def _append(path: Path | None, rows: list[dict[str, Any]]) -> None:
    if path is None or not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        handle.flush()
        os.fsync(handle.fileno())


def _public(config: dict[str, Any]) -> dict[str, Any]:
    """The config without bulky or private entries (the blind prior, keys)."""
    return {k: v for k, v in config.items() if k not in {"answer_prior"} and "key" not in k}


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
