"""The project's configuration loader: Kedro's, with each registered model's inference block
completed from ``inference_defaults`` and the model's name (``inference.settings.with_model_blocks``),
so every reader of ``params:<model>.inference`` (nodes, preflight, the cluster commands) sees the
whole block while ``parameters_inference.yml`` holds only what differs per model; and with the
parameters as ``protocol`` says (``ct_spatial_bench.protocol``): under ``--params
protocol=upstream`` every stage's parameters take upstream's settings, so the preflight, a dry
run's price and every node see the same resolved values."""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader


class ProjectConfigLoader(OmegaConfigLoader):
    def __getitem__(self, key: str) -> dict[str, Any]:
        config = super().__getitem__(key)
        if key != "parameters":
            return config
        from ct_spatial_bench.inference.settings import with_model_blocks
        from ct_spatial_bench.models.registry import MODEL_REGISTRY
        from ct_spatial_bench.protocol import apply_protocol

        return with_model_blocks(apply_protocol(config, self.runtime_params), MODEL_REGISTRY)
