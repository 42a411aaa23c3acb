"""Nodes that run one model under test over the benchmark's questions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def answer_questions(
    qa_items: list[dict[str, Any]],
    params: dict[str, Any],
    model_inputs: dict[str, Callable[[], Any]] | None = None,
) -> list[dict[str, Any]]:
    """Ask the model every question and return one prediction per QA item.

    ``params``: ``model`` (registry name), ``batch_size``, ``checkpoint`` (a JSONL path that keeps
    finished predictions, so a killed run resumes), ``volume_path_prefix``, ``max_items`` (a debug
    cap), ``config`` (passed to the adapter's ``load``).
    """
    from ct_spatial_bench.models.registry import create_adapter
    from ct_spatial_bench.models.runner import run_model
    from ct_spatial_bench.records import volume_key

    adapter = create_adapter(params["model"])
    config = dict(params.get("config") or {})
    config.setdefault("batch_size", params.get("batch_size", 8))
    if getattr(adapter, "needs_answer_prior", False) or adapter.name == "blind":
        config["answer_prior"] = [
            {"qa_id": i["qa_id"], "question": i["question"], "answer": i["answer"]} for i in qa_items
        ]
    items = qa_items[: params["max_items"]] if params.get("max_items") else qa_items
    adapter.load(config)

    load_image = None
    if adapter.input_spec is not None:
        if model_inputs is None:
            raise ValueError(f"{adapter.name} reads {adapter.input_spec!r} inputs but got none")
        prefix = params.get("volume_path_prefix", "")

        def load_image(image_path: str) -> Any:
            key = volume_key(image_path, prefix)
            if key not in model_inputs:
                raise FileNotFoundError(
                    f"no preprocessed {adapter.input_spec} input for {key!r}; "
                    "run the preprocessing pipeline (or check its manifest for the error)"
                )
            return model_inputs[key]()

    predictions = run_model(adapter, items, load_image, config, checkpoint=params.get("checkpoint"))
    errors = sum(p["status"] == "error" for p in predictions)
    logger.info("%s: %d predictions, %d errors", adapter.name, len(predictions), errors)
    return predictions
