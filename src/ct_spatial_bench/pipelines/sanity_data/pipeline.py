from kedro.pipeline import Pipeline, node

from .nodes import generate_sanity_split


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(
            generate_sanity_split,
            inputs="params:sanity_data",
            outputs=["raw_volumes", "sanity_findings", "radiology_reports", "qa_candidates"],
            name="generate_sanity_split",
        ),
    ])
