from kedro.pipeline import Pipeline, node

from .nodes import (
    analyse_answer_length,
    compare_model_pairs,
    compare_slots_with_jury,
    decide_jury,
    estimate_intervals,
    measure_judge_agreement,
    score_accuracy,
    score_categories,
    score_spatial_slots,
    score_subsets,
    score_text_per_item,
    summarise_text_metrics,
    tabulate_slot_scores,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(score_text_per_item, ["benchmark_qa", "pooled_predictions", "params:metrics"],
             "text_metrics_per_item", name="score_text_per_item"),
        node(summarise_text_metrics,
             ["text_metrics_per_item", "benchmark_qa", "pooled_predictions"],
             "text_metrics_summary", name="summarise_text_metrics"),
        node(decide_jury, ["verdicts", "params:metrics"], "jury_decisions", name="decide_jury"),
        node(score_accuracy, ["benchmark_qa", "pooled_predictions", "jury_decisions"],
             "model_accuracy", name="score_accuracy"),
        node(score_categories, ["benchmark_qa", "pooled_predictions", "jury_decisions"],
             "category_accuracy",
             name="score_categories"),
        node(measure_judge_agreement, "verdicts", "judge_agreement",
             name="measure_judge_agreement"),
        node(estimate_intervals,
             ["text_metrics_per_item", "benchmark_qa", "pooled_predictions", "params:metrics"],
             "metric_intervals", name="estimate_intervals"),
        node(compare_model_pairs, ["jury_decisions", "pooled_predictions", "benchmark_qa"],
             "paired_tests", name="compare_model_pairs"),
        # what the jury figure measures (issue 15): the spatial claim alone, answer length,
        # and the items that need the image
        node(score_spatial_slots, ["benchmark_qa", "pooled_predictions"],
             "slot_scores_per_item", name="score_spatial_slots"),
        node(tabulate_slot_scores, ["benchmark_qa", "slot_scores_per_item", "params:metrics"],
             "slot_accuracy", name="tabulate_slot_scores"),
        node(compare_slots_with_jury,
             ["slot_scores_per_item", "jury_decisions", "benchmark_qa", "pooled_predictions"],
             ["slot_jury_agreement", "slot_jury_disagreements"], name="compare_slots_with_jury"),
        node(analyse_answer_length, ["benchmark_qa", "pooled_predictions", "jury_decisions"],
             ["length_analysis", "accuracy_by_length"], name="analyse_answer_length"),
        node(score_subsets,
             ["benchmark_qa", "pooled_predictions", "jury_decisions", "params:metrics"],
             "subset_accuracy", name="score_subsets"),
    ])
