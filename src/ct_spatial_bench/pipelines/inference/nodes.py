"""Nodes that run one model under test over the benchmark's questions (``inference.engine``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

# A real import (light, no Kedro): Kedro reads the nodes' type hints.
from ct_spatial_bench.records import Prediction

logger = logging.getLogger(__name__)


def answer_questions(
    qa_items: list[dict[str, Any]],
    params: dict[str, Any],
    model_inputs: dict[str, Callable[[], Any]] | None = None,
    blind: bool = False,
    answer_prior: list[dict[str, Any]] | None = None,
    raw_volumes: dict[str, Callable[[], Any]] | None = None,
) -> list[Prediction]:
    """Ask the model every question of this run's shard; one ``Prediction`` per QA item.

    ``params`` is ``params:<model>.inference`` (``inference.settings.InferenceSettings``). ``blind``:
    the model's blind control (same prompt, image blanked): predictions of ``<model>`` under
    variant ``blind`` (the entry ``<model>_blind``).
    ``answer_prior``: QA items the blind baseline learns its prior from. ``raw_volumes``: the
    source volumes, against which the inputs are checked (a changed volume stops the run with
    one line, rather than be answered from its old input). One shard of several
    comes back as a ``PredictionPart``, which the predictions dataset writes as a part for
    ``merge_<model>``.
    """
    from ct_spatial_bench.inference.engine import run_inference
    from ct_spatial_bench.inference.settings import InferenceSettings
    from ct_spatial_bench.records import BLIND_VARIANT, ERROR, entry_label
    from ct_spatial_bench.sharding import PredictionPart

    settings = InferenceSettings.from_params(params)
    predictions = run_inference(settings, qa_items, model_inputs, answer_prior, blind=blind,
                                raw_volumes=raw_volumes)
    errors = sum(p.status == ERROR for p in predictions)
    sharded = settings.num_shards > 1
    where = f" (shard {settings.shard_index} of {settings.num_shards})" if sharded else ""
    known = [p["hit_token_limit"] for p in predictions if p.get("hit_token_limit") is not None]
    limit = f", {sum(known)} of {len(known)} stopped at max_new_tokens" if known else ""
    logger.info("%s%s: %d predictions, %d errors%s",
                entry_label(settings.model, BLIND_VARIANT if blind else None), where,
                len(predictions), errors, limit)
    if sharded:
        return PredictionPart(predictions, settings.shard_index, settings.num_shards)
    return predictions
