"""The full HTML report from a run's records: tables, intervals, paired tests, plots, failures.

Shared by the ``reporting`` pipeline (this project's runs) and the ``reproduce`` pipeline
(upstream's files), so both pages have one shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ct_spatial_bench.records import as_prediction, entry_of
from ct_spatial_bench.reporting import plots
from ct_spatial_bench.reporting.caveats import laterality_caveats
from ct_spatial_bench.reporting.failures import failures_html, worst_failures
from ct_spatial_bench.reporting.sections import (
    AFTER_LEADERBOARD,
    ReportSection,
    collect,
    placed,
    section_rows,
)
from ct_spatial_bench.reporting.summary import html_report, html_table
from ct_spatial_bench.reporting.tables import (
    category_overlap_note,
    category_table_with_intervals,
    leaderboard,
)

TEXT_METRICS_HOW_TO_READ = (
    "<p><b>How to read the text metrics on short answers.</b> Reference answers here are a few "
    "words long. Corpus BLEU counts n-grams up to 4 words: answers of fewer than four words "
    "have no 4-gram, so BLEU can be 0 even at a high exact-match rate, and an interval can be "
    "undefined. ROUGE-2 counts word pairs: a one-word answer has none, so even a perfect answer "
    "scores 0 on it and the mean sits well below 1. Read exact match, token F1 and the jury "
    "for short answers; BLEU/ROUGE compare wording, not location.</p>")
FIGURES = ("Accuracy by spatial category", "Category radar", "Model x category heatmap",
           "Judge agreement", "Answer lengths")


def _intervals_view(interval_rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Models x metrics, each cell "mean [low, high]"."""
    if not interval_rows:
        return pd.DataFrame(columns=["model"])
    frame = pd.DataFrame(interval_rows)
    bleu = frame["metric"] == "bleu"  # sacrebleu's 0-100 to the report's 0-1, as the tables
    for column in ("mean", "ci_low", "ci_high"):
        if column in frame.columns:
            frame.loc[bleu, column] = pd.to_numeric(frame.loc[bleu, column]) / 100.0
    frame["cell"] = [
        "" if pd.isna(r.mean) else f"{r.mean:.3f} (no interval: answers under 4 words)"
        if pd.isna(r.ci_low) else f"{r.mean:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
        for r in frame.itertuples()
    ]
    wide = frame.pivot(index="model", columns="metric", values="cell")
    return wide.reindex(columns=list(dict.fromkeys(frame["metric"]))).reset_index()


def results_sections(
    category_rows: list[dict[str, Any]], agreement_rows: list[dict[str, Any]],
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    interval_rows: list[dict[str, Any]], paired_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The reporting stage's own sections: the laterality caveats beside the categories, the
    five figures (judge agreement only where two judges decided common items), the bootstrap
    intervals of the text metrics and the paired comparisons."""
    figures = dict(zip(FIGURES, (
        plots.plot_category_accuracy(category_rows),
        plots.plot_category_radar(category_rows),
        plots.plot_category_heatmap(category_rows),
        plots.plot_judge_agreement(agreement_rows),
        plots.plot_answer_lengths(qa_items, predictions),
    )))
    if not any(r.get("n") for r in agreement_rows):  # one judge: no agreement to draw
        import matplotlib.pyplot as plt

        plt.close(figures.pop("Judge agreement"))
    paired = pd.DataFrame(paired_rows)
    # beside the categories: each entry they show, with the model whose card speaks for it
    model_of = {entry_of(p): p.model for p in map(as_prediction, predictions)}
    caveats = laterality_caveats({label: model_of.get(label, label)
                                  for label in dict.fromkeys(r["model"] for r in category_rows)})
    return [
        *section_rows("reporting.caveats", caveats, AFTER_LEADERBOARD),
        *section_rows("reporting.figures", {}, figures=figures),
        *section_rows("reporting.intervals", {"Bootstrap 95% intervals of the text metrics": (
            "<p>Percentile bootstrap resampling volumes, all of a CT's questions together "
            "(1,000 resamples); BLEU resamples the volumes' n-gram statistics, leaving out "
            "resamples with no 4-gram at all (BLEU undefined there, not 0). All on 0-1 "
            "(BLEU divided by 100).</p>"
            + TEXT_METRICS_HOW_TO_READ + html_table(_intervals_view(interval_rows)))}),
        *section_rows("reporting.paired", {
            "Paired comparisons (McNemar, clustered by volume)": (
                "<p>Each pair of models on the items both were decided on; a_only: items only "
                "model_a got right. p_value: exact McNemar test treating questions as "
                "independent; p_clustered: Durkalski's clustered McNemar test over volumes, the "
                "one to read; difference_ci: volume-bootstrap interval of accuracy_a - "
                "accuracy_b. *_holm: Holm-adjusted over all pairs.</p>"
                + (html_table(paired) if not paired.empty else "<p>Fewer than two models.</p>"))}),
    ]


def failure_sections(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    verdicts: list[dict[str, Any]], decisions: Mapping[tuple[str, str], str],
    per_item_rows: list[dict[str, Any]], per_cell: int = 10,
) -> list[dict[str, Any]]:
    """The failure browser: the worst failures per model and category."""
    return section_rows("reporting.failures", {"Worst failures per model and category": (
        "<p>Items the jury decided incorrect, fewest correct votes first, then the "
        "prediction least similar to the reference. Click to open.</p>"
        + failures_html(worst_failures(qa_items, predictions, verdicts, decisions,
                                       per_item_rows, per_cell=per_cell)))})


def assemble_report(
    run_info: Mapping[str, Any], accuracy_rows: list[dict[str, Any]],
    text_summary_rows: list[dict[str, Any]], category_rows: list[dict[str, Any]],
    qa_items: list[dict[str, Any]], sections: Iterable[ReportSection],
) -> str:
    """One self-contained page: what was run, the leaderboard, the category and text-metric
    tables, then every section where ``sections.LAYOUT`` puts it."""
    from ct_spatial_bench.secrets import redact_text

    after, figures, body = placed(sections)
    # Error texts and raw replies reach the page from several tables; none may carry a key.
    return redact_text(html_report(
        leaderboard(accuracy_rows, text_summary_rows),
        category_table_with_intervals(category_rows),
        pd.DataFrame(text_summary_rows), figures, run_info, sections=body,
        after_leaderboard=after, category_note=category_overlap_note(qa_items),
    ))


def full_html_report(
    *,
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    verdicts: list[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str],
    accuracy_rows: list[dict[str, Any]],
    text_summary_rows: list[dict[str, Any]],
    per_item_rows: list[dict[str, Any]],
    category_rows: list[dict[str, Any]],
    agreement_rows: list[dict[str, Any]],
    interval_rows: list[dict[str, Any]],
    paired_rows: list[dict[str, Any]],
    run_info: Mapping[str, Any],
    extra_sections: Mapping[str, str] | None = None,
    failures_per_cell: int = 10,
    validity_tables: Mapping[str, list[dict[str, Any]]] | None = None,
) -> str:
    """The whole page from the records in one call (the ``reproduce`` pipeline and tests; the
    ``reporting`` pipeline builds the same sections in its stages). ``agreement_rows`` may carry a
    ``model`` field (per-model kappa). ``validity_tables``: the length, slot, subset (and
    offline-domain) rows of ``reporting.validity``, each section shown where its rows are given.
    ``extra_sections`` go after what the jury figure measures."""
    from ct_spatial_bench.reporting.validity import validity_section_rows

    rows = [
        *results_sections(category_rows, agreement_rows, qa_items, predictions, interval_rows,
                          paired_rows),
        *validity_section_rows(validity_tables or {}, accuracy_rows,
                               len({q.get("case_id") for q in qa_items})),
        *section_rows("reproduce.comparison", extra_sections or {}),
        *failure_sections(qa_items, predictions, verdicts, decisions, per_item_rows,
                          failures_per_cell),
    ]
    return assemble_report(run_info, accuracy_rows, text_summary_rows, category_rows, qa_items,
                           collect([rows]))
