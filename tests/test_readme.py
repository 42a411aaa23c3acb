"""The docs' maps are checked against the code: the Layout block is the one the code writes
(``python -m ct_spatial_bench.layout``), and the pipelines table names every registered
pipeline (per-model families as ``<model>``) and nothing else."""

from __future__ import annotations

import re

from support.project import PROJECT_ROOT

LAYOUT_PAGE = PROJECT_ROOT / "docs" / "outputs.md"
PIPELINES_PAGE = PROJECT_ROOT / "docs" / "pipelines.md"


def test_the_layout_block_is_the_one_the_code_writes():
    from ct_spatial_bench.layout import with_layout

    text = LAYOUT_PAGE.read_text(encoding="utf-8")
    assert with_layout(text) == text, "run: python -m ct_spatial_bench.layout --write"


def _family(name: str, models: list[str]) -> str:
    """``inference_m3d_blind`` -> ``inference_<model>_blind``; a stage's name is its own."""
    for model in sorted(models, key=len, reverse=True):
        for prefix in ("inference_", "merge_", "probes_representations_", "probes_quantization_"):
            for suffix in ("_blind", ""):
                if name == f"{prefix}{model}{suffix}":
                    return f"{prefix}<model>{suffix}"
    return name


def test_the_pipelines_table_names_every_registered_pipeline():
    from ct_spatial_bench.models.registry import MODEL_REGISTRY
    from ct_spatial_bench.pipeline_registry import register_pipelines

    text = PIPELINES_PAGE.read_text(encoding="utf-8")
    table = text[text.index("| pipeline |"):].split("\n\n")[0]
    documented = {m for row in table.splitlines()[2:]
                  for m in re.findall(r"`([a-z_<>]+)`", row.split("|")[1])}
    registered = {_family(name, list(MODEL_REGISTRY)) for name in register_pipelines()}
    assert sorted(registered - documented) == [], "registered but not in docs/pipelines.md's table"
    assert sorted(documented - registered) == [], "in docs/pipelines.md's table but not registered"
