"""Every dataset a pipeline reads or writes is declared in the catalog: none silently falls back
to an in-memory dataset, in either environment."""

from __future__ import annotations

import pytest
from support.project import PROJECT_ROOT


@pytest.mark.parametrize("env", ["base", "full"])
def test_no_pipeline_dataset_is_left_in_memory(env):
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    from ct_spatial_bench.pipeline_registry import register_pipelines
    from ct_spatial_bench.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=None if env == "base" else env,
                               **CONFIG_LOADER_ARGS)
    catalog = DataCatalog.from_config(loader["catalog"], credentials=loader["credentials"])
    undeclared = {}
    for name, pipeline in register_pipelines().items():
        missing = sorted(d for d in pipeline.datasets()
                         if not d.startswith("params:") and d != "parameters" and d not in catalog)
        if missing:
            undeclared[name] = missing
    assert not undeclared
