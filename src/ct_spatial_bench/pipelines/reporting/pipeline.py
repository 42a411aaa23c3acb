from kedro.pipeline import Pipeline, node

from .nodes import (
    build_category_table,
    build_correctness_matrix,
    build_leaderboard,
    plot_answer_lengths,
    plot_category_accuracy,
    plot_category_heatmap,
    plot_category_radar,
    plot_judge_agreement,
    tabulate_text_metrics,
    write_html_report_with_probes,
    write_summary,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(build_correctness_matrix,
             ["benchmark_qa", "pooled_predictions", "verdicts", "jury_decisions"],
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
        node(plot_category_radar, "category_accuracy", "category_radar_plot",
             name="plot_category_radar"),
        node(plot_category_heatmap, "category_accuracy", "category_heatmap_plot",
             name="plot_category_heatmap"),
        node(plot_judge_agreement, "judge_agreement", "judge_agreement_plot",
             name="plot_judge_agreement"),
        node(write_summary,
             ["leaderboard", "category_performance", "benchmark_qa", "pooled_predictions",
              "verdicts", "jury_decisions", "params:reporting"],
             "summary", name="write_summary"),
        node(write_html_report_with_probes,
             ["benchmark_qa", "pooled_predictions", "verdicts", "jury_decisions",
              "model_accuracy", "text_metrics_summary", "text_metrics_per_item",
              "category_accuracy", "judge_agreement", "metric_intervals", "paired_tests",
              "params:reporting",
              # the probes' tables (None until the probes have run)
              "probe_does_it_look", "probe_blind_gap", "probe_robustness",
              "probe_representations", "params:probes",
              # what the jury figure measures (issue 15)
              "length_analysis", "accuracy_by_length", "slot_accuracy", "slot_jury_agreement",
              "slot_jury_disagreements", "subset_accuracy",
              "mask_qa_summary",  # the mask-derived track (None until mask_qa has run)
              # the report's efficiency section (issue 18; None until an ablation has run)
              "quantization_tables",
              "raw_volumes"],  # the case viewer's slices (reporting/case_viewer.py)
             "html_report", name="write_html_report"),
    ])
