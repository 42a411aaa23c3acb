from kedro.pipeline import Pipeline, node

from .nodes import filter_generated_questions, generate_candidate_qa


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(
            generate_candidate_qa,
            # llm_api_keys: the LLM keys from the conf credentials, shared with the judges
            inputs=["radiology_reports", "params:qa_generation", "llm_api_keys"],
            outputs=["generated_qa_candidates", "qa_generation_log"],
            name="generate_candidate_qa",
        ),
    ])


def create_curation_pipeline(**kwargs) -> Pipeline:
    """Reports -> generated candidates -> the spatial filter and tagger, written apart from the
    benchmark (``generated_benchmark_qa``), so generated questions never replace a split's own
    questions unless a catalog points ``qa_candidates`` at them."""
    return create_pipeline() + Pipeline([
        node(
            filter_generated_questions,
            inputs=["generated_qa_candidates", "params:qa_filtering", "llm_api_keys"],
            outputs=["generated_benchmark_qa", "generated_qa_filter_decisions"],
            name="filter_generated_questions",
        ),
    ])
