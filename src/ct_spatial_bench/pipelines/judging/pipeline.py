import warnings

from kedro.pipeline import Pipeline, node

from .nodes import (
    judge_all,
    pool_current_predictions,
    pool_prediction_files,
    stop_if_judges_failed,
    summarise_judge_usage,
    write_report_section,
)


def create_pipeline(models: list[str] | None = None, **kwargs) -> Pipeline:
    """Judge every model's predictions.

    Only predictions that answer the questions the QA set asks now are pooled (by (model,
    qa_id) and question fingerprint). With ``models`` the predictions are named datasets, so a
    combined run orders inference before judging; without, judging reads every prediction file
    on disk (after separate cluster jobs).
    """
    if models:
        with warnings.catch_warnings():
            # "<model>.predictions" are the inference pipelines' namespaced outputs, named on purpose.
            warnings.filterwarnings("ignore", message="One or more dataset names contain")
            pool = node(
                pool_current_predictions,
                inputs={"qa_items": "benchmark_qa", **{m: f"{m}.predictions" for m in models}},
                outputs="pooled_predictions",
                name="pool_predictions",
            )
    else:
        pool = node(
            pool_prediction_files,
            inputs=["benchmark_qa", "prediction_files"],
            outputs="pooled_predictions",
            name="pool_prediction_files",
        )
    return Pipeline([
        pool,
        node(
            judge_all,
            inputs=["benchmark_qa", "pooled_predictions", "params:judging", "llm_api_keys"],
            outputs="verdicts",
            name="judge_predictions",
        ),
        node(summarise_judge_usage, inputs="verdicts", outputs="judge_token_usage",
             name="summarise_judge_usage"),
        node(stop_if_judges_failed, inputs=["verdicts", "params:judging", "judge_token_usage"],
             outputs=None, name="stop_if_judges_failed"),
        node(write_report_section, ["pooled_predictions", "verdicts"], "report_section_judging",
             name="write_judging_report_section"),
    ])
