"""The volume loop in this process: the adapter the engine made, loaded once, asked volume by
volume (``inference.loop``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ct_spatial_bench.inference.loop import image_loader, run_model
from ct_spatial_bench.inference.settings import InferenceSettings
from ct_spatial_bench.models.base import ModelAdapter


def run_local(settings: InferenceSettings, items: list[dict[str, Any]],
              model_inputs: dict[str, Callable[[], Any]] | None, config: dict[str, Any],
              make_adapter: Callable[[], ModelAdapter], checkpoint: str | None, *,
              adapter: ModelAdapter) -> list[dict[str, Any]]:
    """``adapter`` loaded with ``config`` and run over ``items``; predictions in item order.
    ``make_adapter`` is for backends that make one adapter per worker; here the engine's is used
    (and closed by the engine)."""
    adapter.load(config)
    return run_model(adapter, items,
                     image_loader(adapter.input_spec, model_inputs, settings.volume_path_prefix),
                     config, checkpoint=checkpoint)
