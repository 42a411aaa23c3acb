"""``reproduce``: upstream's files in, upstream's tables out, plus intervals and paired tests.

    kedro run --pipelines reproduce --params reproduce.source_dir=DIR

Datasets and nodes live under the ``reproduction`` namespace: ``reproduction.summary_table`` is
data/08_reporting/reproduction/summary.csv (conf/base/catalog_reproduce.yml).
"""

from kedro.pipeline import Pipeline, node

from ct_spatial_bench.judges.jury import judge_agreement
from ct_spatial_bench.metrics.slots import score_slots
from ct_spatial_bench.metrics.text import text_metrics_summary

from .nodes import (
    add_offline_columns,
    analyse_upstream_answer_length,
    answer_from_question_alone,
    as_table,
    collect_sections,
    compare_upstream_model_pairs,
    compare_upstream_slots_with_jury,
    compare_with_published,
    decide_upstream_jury,
    estimate_upstream_intervals,
    judge_offline,
    read_upstream_files,
    score_as_upstream,
    score_upstream_accuracy,
    score_upstream_subsets,
    score_upstream_text,
    tabulate_reproduction,
    tabulate_reproduction_categories,
    tabulate_upstream_slot_scores,
    write_answers_section,
    write_comparison_section,
    write_offline_domain_section,
    write_reproduction_report,
    write_results_section,
    write_validity_section,
)

RECORDS = ["qa_items", "predictions", "verdicts"]


def create_pipeline(**kwargs) -> Pipeline:
    nodes = [
        node(read_upstream_files, "params:reproduce", [*RECORDS, "sources_table"],
             name="read_upstream_files"),
        node(score_upstream_text, ["qa_items", "predictions", "params:reproduce"],
             "text_metrics_per_item", name="score_upstream_text"),
        node(text_metrics_summary, ["text_metrics_per_item", "qa_items", "predictions"],
             "text_metrics_summary", name="summarise_upstream_text"),
        # the offline judge on every model read; summary.csv gets its agreement with
        # the jury (offline_kappa_crossfit for the models it was trained on, out of fold;
        # offline_kappa for the others). Its verdicts stay out of "verdicts".
        node(judge_offline, ["qa_items", "predictions"], "offline_verdicts",
             name="judge_offline"),
        # what the jury figure measures: the spatial claim, answer length, items needing the CT
        node(score_slots, ["qa_items", "predictions"], "slot_scores_per_item",
             name="score_upstream_slots"),
        node(tabulate_upstream_slot_scores, ["qa_items", "slot_scores_per_item", "params:reproduce"],
             "slot_accuracy", name="tabulate_upstream_slot_scores"),
        node(compare_upstream_slots_with_jury,
             ["slot_scores_per_item", "jury_decisions", "qa_items", "predictions"],
             ["slot_jury_agreement", "slot_jury_disagreements"],
             name="compare_upstream_slots_with_jury"),
        node(analyse_upstream_answer_length, ["qa_items", "predictions", "jury_decisions"],
             ["length_analysis", "accuracy_by_length"], name="analyse_upstream_answer_length"),
        node(answer_from_question_alone, "qa_items", "blind_prior_predictions",
             name="answer_from_question_alone"),
        node(judge_offline, ["qa_items", "blind_prior_predictions"], "blind_prior_verdicts",
             name="judge_blind_prior_offline"),
        node(score_upstream_subsets,
             [*RECORDS[:2], "jury_decisions", "blind_prior_verdicts", "params:reproduce"],
             "subset_accuracy", name="score_upstream_subsets"),
        node(tabulate_reproduction,
             [*RECORDS, "text_metrics_summary", "params:reproduce", "length_analysis",
              "slot_accuracy", "subset_accuracy"],
             "summary_rows", name="tabulate_reproduction"),
        node(add_offline_columns,
             ["summary_rows", "verdicts", "offline_verdicts", "qa_items", "predictions"],
             "summary_table", name="add_offline_columns"),
        node(tabulate_reproduction_categories, RECORDS,
             ["category_accuracy", "category_performance_table"],
             name="tabulate_reproduction_categories"),
        node(decide_upstream_jury, "verdicts", "jury_decisions", name="decide_upstream_jury"),
        node(estimate_upstream_intervals,
             ["text_metrics_per_item", "qa_items", "predictions", "params:reproduce"],
             "metric_intervals", name="estimate_upstream_intervals"),
        node(compare_upstream_model_pairs, ["jury_decisions", "predictions", "qa_items"],
             "paired_tests",
             name="compare_upstream_model_pairs"),
        node(judge_agreement, "verdicts", "judge_agreement",
             name="measure_upstream_judge_agreement"),
        node(as_table, "metric_intervals", "metric_intervals_table",
             name="tabulate_upstream_intervals"),
        node(as_table, "paired_tests", "paired_tests_table",
             name="tabulate_upstream_paired_tests"),
        *[node(as_table, name, f"{name}_table", name=f"tabulate_upstream_{name}")
          for name in ("slot_accuracy", "slot_jury_agreement", "slot_jury_disagreements",
                       "length_analysis", "accuracy_by_length", "subset_accuracy")],
        # upstream's scoring as its scripts did it (avg3, missing votes 0), joined by key
        node(score_as_upstream, RECORDS,
             ["upstream_scoring_table", "upstream_category_performance_table"],
             name="score_as_upstream"),
        node(compare_with_published,
             ["summary_table", "params:reproduce", "upstream_scoring_table"],
             "published_comparison_table", name="compare_with_published"),
        # the report, assembled from sections as the reporting pipeline's (reporting/sections.py)
        node(score_upstream_accuracy, [*RECORDS, "params:reproduce"], "model_accuracy",
             name="score_upstream_accuracy"),
        node(write_validity_section,
             ["length_analysis", "accuracy_by_length", "slot_accuracy", "slot_jury_agreement",
              "slot_jury_disagreements", "subset_accuracy", "model_accuracy", "qa_items"],
             "report_section_metrics", name="write_validity_section"),
        node(write_offline_domain_section, "predictions", "report_section_judging",
             name="write_offline_domain_section"),
        node(write_results_section,
             ["category_accuracy", "verdicts", "qa_items", "predictions", "metric_intervals",
              "paired_tests"], "report_section_results", name="write_results_section"),
        node(write_answers_section, [*RECORDS, "text_metrics_per_item"],
             "report_section_answers", name="write_answers_section"),
        node(write_comparison_section, "published_comparison_table",
             "report_section_comparison", name="write_comparison_section"),
        node(collect_sections,
             {stage: f"report_section_{stage}"
              for stage in ("results", "answers", "metrics", "judging", "comparison")},
             "report_sections", name="collect_report_sections"),
        node(write_reproduction_report,
             [*RECORDS, "params:reproduce", "model_accuracy", "text_metrics_summary",
              "category_accuracy", "report_sections"],
             "html_report", name="write_reproduction_report"),
    ]
    return Pipeline(nodes, namespace="reproduction", parameters={"params:reproduce"})
