from kedro.pipeline import Pipeline, node

from .nodes import (
    build_category_table,
    build_correctness_matrix,
    build_leaderboard,
    plot_answer_lengths,
    plot_category_accuracy,
    tabulate_text_metrics,
    write_html_report,
    write_summary,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(build_correctness_matrix, ["benchmark_qa", "verdicts", "jury_decisions"],
             "correctness_matrix", name="build_correctness_matrix"),
        node(build_leaderboard, ["model_accuracy", "text_metrics_summary"], "leaderboard",
             name="build_leaderboard"),
        node(build_category_table, "category_accuracy", "category_performance",
             name="build_category_table"),
        node(tabulate_text_metrics, "text_metrics_summary", "text_metrics_table",
             name="tabulate_text_metrics"),
        node(plot_category_accuracy, "category_accuracy", "category_accuracy_plot",
             name="plot_category_accuracy"),
        node(plot_answer_lengths, ["benchmark_qa", "pooled_predictions"], "answer_lengths_plot",
             name="plot_answer_lengths"),
        node(write_summary,
             ["leaderboard", "category_performance", "benchmark_qa", "pooled_predictions",
              "params:reporting"],
             "summary", name="write_summary"),
        node(write_html_report,
             ["leaderboard", "category_performance", "text_metrics_table",
              "category_accuracy", "benchmark_qa",
              "pooled_predictions", "params:reporting"],
             "html_report", name="write_html_report"),
    ])
