"""No node of any registered pipeline takes more than 8 inputs (issue 22: the report was a
funnel of 26); the report reads the stages' sections through one collector."""

from __future__ import annotations

from ct_spatial_bench.pipeline_registry import register_pipelines

MAX_INPUTS = 8


def _wide_nodes() -> dict[str, int]:
    wide = {}
    for pipeline in register_pipelines().values():
        for node in pipeline.nodes:
            if len(node.inputs) > MAX_INPUTS:
                wide[node.name] = len(node.inputs)
    return wide


def test_no_node_takes_more_than_eight_inputs():
    assert _wide_nodes() == {}


def test_preprocessing_reads_every_specs_existing_inputs_as_one_input():
    """The one node that decodes each volume once for every spec reads what all the specs'
    folders hold through one dataset, however many specs the registry's models need."""
    from ct_spatial_bench.models.registry import MODEL_REGISTRY

    specs = {entry.input_spec for entry in MODEL_REGISTRY.values() if entry.input_spec}
    (node,) = register_pipelines()["preprocessing"].nodes
    assert len(specs) > MAX_INPUTS - 3  # the case this guards: more specs than inputs allowed
    assert node.inputs == ["benchmark_qa", "raw_volumes", "params:preprocessing",
                           "existing_model_inputs"]
    assert set(node.outputs) == {f"model_inputs_{s}" for s in specs} | {"preprocessing_manifest"}


def test_the_report_node_takes_the_sections_as_one_input():
    reporting = register_pipelines()["reporting"]
    report = next(n for n in reporting.nodes if n.name == "write_html_report")
    assert "report_sections" in report.inputs and len(report.inputs) <= 6
    collector = next(n for n in reporting.nodes if "report_sections" in n.outputs)
    assert {"report_section_probes", "report_section_mask_qa", "report_section_metrics",
            "report_section_judging"} <= set(collector.inputs)
