from kedro.pipeline import Pipeline, node

from .nodes import filter_spatial_questions, measure_tagger_agreement


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(
            filter_spatial_questions,
            inputs=["qa_candidates", "params:qa_filtering", "llm_api_keys"],
            outputs=["benchmark_qa", "qa_filter_decisions"],
            name="filter_spatial_questions",
        ),
        node(measure_tagger_agreement, "qa_filter_decisions", "category_tagger_agreement",
             name="measure_tagger_agreement"),
    ])
