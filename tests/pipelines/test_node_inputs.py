"""No node of any registered pipeline takes more than 8 inputs (issue 22: the report was a
funnel of 26); the report reads the stages' sections through one collector."""

from __future__ import annotations

from ct_spatial_bench.pipeline_registry import register_pipelines

MAX_INPUTS = 8
# Not yet within the limit, named so a new one fails: preprocessing reads one
# existing_model_inputs_<spec> per spec (Kedro lets no node read its own output), 3 + 12 here.
KNOWN_WIDE = {"preprocess_volumes"}


def _wide_nodes() -> dict[str, int]:
    wide = {}
    for pipeline in register_pipelines().values():
        for node in pipeline.nodes:
            if len(node.inputs) > MAX_INPUTS:
                wide[node.name] = len(node.inputs)
    return wide


def test_no_node_takes_more_than_eight_inputs():
    assert set(_wide_nodes()) == KNOWN_WIDE, _wide_nodes()


def test_the_report_node_takes_the_sections_as_one_input():
    reporting = register_pipelines()["reporting"]
    report = next(n for n in reporting.nodes if n.name == "write_html_report")
    assert "report_sections" in report.inputs and len(report.inputs) <= 6
    collector = next(n for n in reporting.nodes if "report_sections" in n.outputs)
    assert {"report_section_probes", "report_section_mask_qa", "report_section_metrics",
            "report_section_judging"} <= set(collector.inputs)
