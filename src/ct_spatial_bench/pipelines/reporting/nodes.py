"""Nodes that turn the metrics of every model into tables, plots and one report."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.records import entry_of


def build_correctness_matrix(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    verdicts: list[dict[str, Any]], decision_rows: list[dict],
) -> Any:
    """qa_id x (model, judge) and model jury: 1 correct, 0 incorrect, empty failed or missing;
    a model's errored prediction counts 0 in its jury column."""
    from ct_spatial_bench.metrics.accuracy import effective_decisions
    from ct_spatial_bench.records import decisions_by_item
    from ct_spatial_bench.reporting.tables import correctness_matrix

    decisions = effective_decisions(decisions_by_item(decision_rows, "jury_decisions"), predictions)
    return correctness_matrix(qa_items, verdicts, decisions).reset_index()


def build_leaderboard(accuracy_rows: list[dict], text_summary_rows: list[dict]) -> Any:
    from ct_spatial_bench.reporting.tables import leaderboard

    return leaderboard(accuracy_rows, text_summary_rows)


def build_category_table(category_rows: list[dict]) -> Any:
    from ct_spatial_bench.reporting.tables import category_table

    return category_table(category_rows)


def tabulate_text_metrics(text_summary_rows: list[dict]) -> Any:
    import pandas as pd

    return pd.DataFrame(text_summary_rows)


def plot_category_accuracy(category_rows: list[dict]) -> Any:
    from ct_spatial_bench.reporting.plots import plot_category_accuracy as plot

    return plot(category_rows)


def plot_answer_lengths(qa_items: list[dict], predictions: list[dict]) -> Any:
    from ct_spatial_bench.reporting.plots import plot_answer_lengths as plot

    return plot(qa_items, predictions)


def plot_category_radar(category_rows: list[dict]) -> Any:
    from ct_spatial_bench.reporting.plots import plot_category_radar as plot

    return plot(category_rows)


def plot_category_heatmap(category_rows: list[dict]) -> Any:
    from ct_spatial_bench.reporting.plots import plot_category_heatmap as plot

    return plot(category_rows)


def plot_judge_agreement(agreement_rows: list[dict]) -> Any:
    from ct_spatial_bench.reporting.plots import plot_judge_agreement as plot

    return plot(agreement_rows)


def describe_run(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    decision_rows: list[dict], params: dict[str, Any],
) -> dict[str, Any]:
    """What was run, read from the records themselves (the judges that actually gave verdicts,
    the rule the jury used), so the report cannot disagree with the data."""
    judges = sorted({f"{v['judge']} ({v['judge_model']})" for v in verdicts})
    return {
        "split": params.get("split_name", ""),
        "n_questions": len(qa_items),
        "n_volumes": len({i["case_id"] for i in qa_items}),
        "models": sorted({entry_of(p) for p in predictions}),  # a blind control apart
        "judges": ", ".join(judges),
        # which prompt judged (structured schema, YES/NO or batch), as the verdicts record it
        "judge_prompts": ", ".join(sorted({f"{v['judge']}: {v.get('prompt_version') or '-'}"
                                           for v in verdicts})),
        "jury_rule": ", ".join(sorted({r["rule"] for r in decision_rows})),
        "output_dir": params.get("output_dir", "data/08_reporting"),
    }


def write_summary(leaderboard_df: Any, category_df: Any, run_info: dict[str, Any]) -> str:
    """The short summary a person reads first."""
    from ct_spatial_bench.reporting.summary import summary_markdown

    return summary_markdown(leaderboard_df, category_df, run_info)


def _decisions(predictions: list[dict], decision_rows: list[dict]) -> Any:
    """The jury's decisions by (model, qa_id), a model's errored prediction counted incorrect."""
    from ct_spatial_bench.metrics.accuracy import effective_decisions
    from ct_spatial_bench.records import decisions_by_item

    return effective_decisions(decisions_by_item(decision_rows, "jury_decisions"), predictions)


def write_results_section(
    category_rows: list[dict], agreement_rows: list[dict], qa_items: list[dict],
    predictions: list[dict], interval_rows: list[dict], paired_rows: list[dict],
) -> list[dict]:
    """Caveats, figures, text-metric intervals and paired tests (``reporting.report``)."""
    from ct_spatial_bench.reporting.report import results_sections

    return results_sections(category_rows, agreement_rows, qa_items, predictions, interval_rows,
                            paired_rows)


def write_answers_section(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    decision_rows: list[dict], per_item_rows: list[dict], params: dict[str, Any],
) -> list[dict]:
    """The failure browser, and upstream's scoring beside ours under ``protocol: upstream``."""
    from ct_spatial_bench.reporting.report import failure_sections
    from ct_spatial_bench.reporting.sections import section_rows

    rows = []
    if params.get("upstream_scoring"):  # protocol upstream: its scoring beside ours
        from ct_spatial_bench.reporting.upstream import upstream_scoring_section

        rows += section_rows("reporting.upstream", upstream_scoring_section(
            qa_items, predictions, verdicts, params.get("upstream_judges")))
    return rows + failure_sections(qa_items, predictions, verdicts,
                                   _decisions(predictions, decision_rows), per_item_rows)


def write_efficiency_section(predictions: list[dict], quantization_rows: list[dict] | None
                             ) -> list[dict]:
    """What each model's run cost, with the quantization ablation's section where it ran."""
    from ct_spatial_bench.reporting.efficiency import efficiency_html
    from ct_spatial_bench.reporting.sections import section_rows

    ablation = "".join(r["html"] for r in quantization_rows or [])
    return section_rows("reporting.efficiency",
                        {"Efficiency": efficiency_html(predictions, ablation or None)})


CASES_TITLE = "Cases: what the models saw and answered"


def write_cases_section(
    qa_items: list[dict], predictions: list[dict], decision_rows: list[dict], volumes: Any,
    params: dict[str, Any], preprocessing_params: dict[str, Any],
) -> list[dict]:
    """The case viewer: items models got wrong, each with what every model saw (the slices of
    its input spec) and answered."""
    from ct_spatial_bench.reporting.case_viewer import case_viewer_html
    from ct_spatial_bench.reporting.sections import section_rows

    cases = (params or {}).get("cases") or {}
    return section_rows("reporting.cases", {CASES_TITLE: case_viewer_html(
        qa_items, predictions, decision_rows, volumes, limit=int(cases.get("limit", 12)),
        size=int(cases.get("image_px", 120)), specs=_input_specs(predictions,
                                                                 preprocessing_params))})


def _input_specs(predictions: list[dict], preprocessing_params: dict[str, Any]) -> dict:
    """entry -> the InputSpec its model reads (None: the question text only), from the registry
    (a blind control's is its model's: it gets the same input, blanked)."""
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.models.registry import MODEL_REGISTRY
    from ct_spatial_bench.records import as_prediction

    specs = (preprocessing_params or {}).get("specs") or {}
    model_of = {entry_of(p): p.model for p in map(as_prediction, predictions)}
    names = {e: getattr(MODEL_REGISTRY.get(m), "input_spec", None) for e, m in model_of.items()}
    return {m: InputSpec.from_params(n, specs[n]) if n in specs else None
            for m, n in names.items()}


def collect_report_sections(**stages: list[dict] | None) -> list[Any]:
    """Every stage's ``report_section_<stage>`` (None: that stage has not run) in the report's
    order (``reporting.sections.LAYOUT``)."""
    from ct_spatial_bench.reporting.sections import collect

    return collect(stages.values())


def write_html_report(
    run_info: dict[str, Any], accuracy_rows: list[dict], text_summary_rows: list[dict],
    category_rows: list[dict], qa_items: list[dict], sections: list[Any],
) -> str:
    """One self-contained HTML page: the leaderboard with intervals, the category and text-metric
    tables, then the sections the stages wrote."""
    from ct_spatial_bench.reporting.report import assemble_report

    return assemble_report(run_info, accuracy_rows, text_summary_rows, category_rows, qa_items,
                           sections)
