from kedro.pipeline import Pipeline, node

from .nodes import generate_answer_prior, generate_sanity_split


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(
            generate_sanity_split,
            inputs="params:sanity_data",
            outputs=["raw_volumes", "sanity_findings", "radiology_reports", "qa_candidates",
                     "raw_label_maps"],
            name="generate_sanity_split",
        ),
        node(
            generate_answer_prior,
            inputs=["params:sanity_data", "params:sanity_answer_prior"],
            outputs="blind_answer_prior",
            name="generate_answer_prior",
        ),
    ])
