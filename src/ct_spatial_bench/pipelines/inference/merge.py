"""Node that joins the parts of a sharded inference run into the model's predictions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def merge_predictions(
    qa_items: list[dict[str, Any]],
    prediction_parts: dict[str, Callable[[], list[dict[str, Any]]]],
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """Join ``shard-i-of-N`` parts by ``qa_id`` into one list in question order.

    The questions expected are those an unsharded run asks (``max_items`` applies); the parts
    must be one complete set (``num_shards`` > 1 chooses it when parts of several N are on disk),
    with no ``qa_id`` twice and none missing, and each answering its question as the QA set asks
    it now (``identity.answers_question``), or the merge stops saying which shard to rerun.
    """
    from ct_spatial_bench.identity import answers_question
    from ct_spatial_bench.inference.settings import InferenceSettings
    from ct_spatial_bench.sharding import ShardError, asked_items, merge_parts

    settings = InferenceSettings.from_params({**params, "shard_index": 0})
    items = asked_items(qa_items, settings.max_items)
    parts = {name: load() for name, load in prediction_parts.items()}
    merged = merge_parts(parts, [item["qa_id"] for item in items],
                         settings.num_shards if settings.num_shards > 1 else None)
    stale = [(row["qa_id"], item) for row, item in zip(merged, items)
             if not answers_question(row, item)]
    if stale:
        raise ShardError(
            f"{settings.model}: {len(stale)} prediction(s) in the parts answer questions that "
            f"changed since ({', '.join(qa_id for qa_id, _ in stale[:3])}"
            f"{', ...' if len(stale) > 3 else ''}): rerun the shards (each asks only its changed "
            "questions again), then merge")
    logger.info("%s: merged %d parts into %d predictions", settings.model, len(parts),
                len(merged))
    return merged
