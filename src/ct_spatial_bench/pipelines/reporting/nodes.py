"""Nodes that turn the metrics of every model into tables, plots and one report."""

from __future__ import annotations

from typing import Any


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


def _run_info(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    decision_rows: list[dict], params: dict[str, Any],
) -> dict:
    """What was run, read from the records themselves (the judges that actually gave verdicts,
    the rule the jury used), so the report cannot disagree with the data."""
    judges = sorted({f"{v['judge']} ({v['judge_model']})" for v in verdicts})
    return {
        "split": params.get("split_name", ""),
        "n_questions": len(qa_items),
        "n_volumes": len({i["case_id"] for i in qa_items}),
        "models": sorted({p["model"] for p in predictions}),
        "judges": ", ".join(judges),
        # which prompt judged (structured schema, YES/NO or batch), as the verdicts record it
        "judge_prompts": ", ".join(sorted({f"{v['judge']}: {v.get('prompt_version') or '-'}"
                                           for v in verdicts})),
        "jury_rule": ", ".join(sorted({r["rule"] for r in decision_rows})),
        "output_dir": params.get("output_dir", "data/08_reporting"),
    }


def write_summary(
    leaderboard_df: Any, category_df: Any, qa_items: list[dict], predictions: list[dict],
    verdicts: list[dict], decision_rows: list[dict], params: dict[str, Any],
) -> str:
    """The short summary a person reads first."""
    from ct_spatial_bench.reporting.summary import summary_markdown

    return summary_markdown(leaderboard_df, category_df,
                            _run_info(qa_items, predictions, verdicts, decision_rows, params))


def write_html_report(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict], decision_rows: list[dict],
    accuracy_rows: list[dict], text_summary_rows: list[dict], per_item_rows: list[dict],
    category_rows: list[dict], agreement_rows: list[dict], interval_rows: list[dict],
    paired_rows: list[dict], params: dict[str, Any],
    probe_tables: dict[str, Any] | None = None,
    validity_tables: dict[str, list[dict]] | None = None,
    more_sections: dict[str, str] | None = None,
) -> str:
    """One self-contained HTML page: leaderboard with intervals, category table, text metrics and
    their intervals, paired tests, five plots, and the worst failures per model and category.

    The plots are drawn again here because kedro-datasets' MatplotlibDataset cannot be loaded.
    """
    from ct_spatial_bench.metrics.accuracy import effective_decisions
    from ct_spatial_bench.records import decisions_by_item
    from ct_spatial_bench.reporting.report import full_html_report

    decisions = decisions_by_item(decision_rows, "jury_decisions")
    placed = _probe_sections(probe_tables)
    placed["extra_sections"] = {**placed.get("extra_sections", {}), **(more_sections or {})}
    return full_html_report(
        qa_items=qa_items, predictions=predictions, verdicts=verdicts,
        decisions=effective_decisions(decisions, predictions), accuracy_rows=accuracy_rows,
        text_summary_rows=text_summary_rows, per_item_rows=per_item_rows,
        category_rows=category_rows, agreement_rows=agreement_rows, interval_rows=interval_rows,
        paired_rows=paired_rows,
        run_info=_run_info(qa_items, predictions, verdicts, decision_rows, params),
        validity_tables=validity_tables, **placed,
    )


def write_html_report_with_probes(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict], decision_rows: list[dict],
    accuracy_rows: list[dict], text_summary_rows: list[dict], per_item_rows: list[dict],
    category_rows: list[dict], agreement_rows: list[dict], interval_rows: list[dict],
    paired_rows: list[dict], params: dict[str, Any], does_it_look: Any, blind_gap: Any,
    robustness: Any, representations: Any, probe_params: dict[str, Any],
    length_rows: list[dict], length_bin_rows: list[dict], slot_rows: list[dict],
    slot_agreement_rows: list[dict], slot_disagreement_rows: list[dict],
    subset_rows: list[dict], mask_summary: list[dict] | None = None,
    quantization_tables: Any = None, volumes: Any = None,
) -> str:
    """The report with the probes' tables and the mask-derived track (each None until its
    pipeline has run), what the jury figure measures (length, spatial slots, subsets, offline
    judge's domain) and the efficiency section (with the quantization ablation where it ran)."""
    from ct_spatial_bench.reporting.case_viewer import case_viewer_html
    from ct_spatial_bench.reporting.efficiency import efficiency_sections

    more = efficiency_sections(predictions, quantization_tables)
    if params.get("upstream_scoring"):  # protocol upstream: its scoring beside ours
        from ct_spatial_bench.reporting.upstream import upstream_scoring_section

        more = {**more, **upstream_scoring_section(qa_items, predictions, verdicts,
                                                   params.get("upstream_judges"))}
    return write_html_report(
        qa_items, predictions, verdicts, decision_rows, accuracy_rows, text_summary_rows,
        per_item_rows, category_rows, agreement_rows, interval_rows, paired_rows, params,
        probe_tables={"look": does_it_look, "gap": blind_gap, "robustness": robustness,
                      "representations": representations, "flip": probe_params.get("flip") or {},
                      "mask_summary": mask_summary},
        validity_tables={"length": length_rows, "length_bins": length_bin_rows,
                         "slots": slot_rows, "slot_agreement": slot_agreement_rows,
                         "slot_disagreements": slot_disagreement_rows, "subsets": subset_rows,
                         **_offline_domain(predictions, verdicts)},
        more_sections={**more,
                       CASES_TITLE: case_viewer_html(qa_items, predictions, decision_rows,
                                                     volumes, **_case_settings(params))})


CASES_TITLE = "Cases: what the models saw and answered"


def _case_settings(params: dict[str, Any]) -> dict[str, int]:
    cases = (params or {}).get("cases") or {}
    return {"limit": int(cases.get("limit", 12)), "size": int(cases.get("image_px", 120))}


def _offline_domain(predictions: list[dict], verdicts: list[dict]) -> dict[str, list[dict]]:
    """The offline judge's length domain against each model it judged (nothing when it judged
    none)."""
    from ct_spatial_bench.judges.offline.training import answers_outside_domain

    judged = {v["model"] for v in verdicts if v["judge"] == "offline"}
    if not judged:
        return {}
    return {"offline_domain": answers_outside_domain(
        [p for p in predictions if p["model"] in judged])}


def _probe_sections(tables: dict[str, Any] | None) -> dict[str, Any]:
    """``after_leaderboard`` (does it look?) and ``extra_sections`` (the probes' details)."""
    if tables is None:
        return {}
    from ct_spatial_bench.probes.laterality import rule_text
    from ct_spatial_bench.probes.report import probe_sections
    from ct_spatial_bench.reporting.mask_track import mask_track_sections
    from ct_spatial_bench.spatial.categories import LATERALITY

    mask_track = mask_track_sections(tables.get("mask_summary"))

    flip = tables["flip"]
    rule = rule_text(flip.get("categories") or [LATERALITY], flip.get("exclude_lobes", True))
    sections = probe_sections(tables["look"], tables["gap"], rule, tables["robustness"],
                              tables["representations"])
    first = next(iter(sections))
    return {"after_leaderboard": {first: sections.pop(first), **mask_track},
            "extra_sections": sections}
