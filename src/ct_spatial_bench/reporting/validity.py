"""The report's sections on what the jury figure measures: answer length, the spatial-slot score,
the items that need the image, the offline judge's domain and the design effect of clustering."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ct_spatial_bench.reporting.summary import html_table

LENGTH_TEXT = (
    "<p>Jury accuracy follows answer length across models: a long answer may name the right "
    "finding among many, and open questions are both harder and answered at greater length. "
    "<b>length-standardised</b>: a logistic model of the jury decision with the question's type "
    "(category, answer type, open or closed), one intercept per model and <b>each model's own "
    "slope</b> on log(words); each model's fitted probability averaged over every item at that "
    "item's reference answer length, with a 95% volume-clustered bootstrap interval. The slope "
    "(log-odds per doubling of length, within the model's own answers on questions of the same "
    "type) comes with its interval. It separates length from the coded question types only; "
    "it cannot tell whether a long answer is right because it names more candidates or because "
    "the model knew more. <b>share_near_reference</b>: the share of a model's answers within a "
    "factor 2 of the reference median; where it is small the figure is an extrapolation along "
    "the model's slope.</p>")
SLOT_TEXT = (
    "<p>Deterministic, no judge: for each item the axes (side, vertical level, depth, "
    "centricity, lobe) the reference names and the question leaves open, and on each whether "
    "the prediction <b>agrees</b>, <b>conflicts</b> (names an excluding value), is "
    "<b>missing</b> (names none) or <b>hedges</b> (names the right value and an excluding one, "
    "e.g. both sides). An item is slot-correct when every asked axis agrees; its outcome is "
    "otherwise its worst axis (conflict, hedge, missing), so the four rates sum to 1. Items "
    "whose reference names no open slot (yes/no, measurements) are not scored.</p>")
SUBSET_TEXT = (
    "<p><b>needs_image</b>: items the blind prior (the commonest answer to questions of the same "
    "form, question text only) gets wrong; <b>needs_image_twin</b>: items the model's own blind "
    "control gets wrong; <b>human_rejected</b>: items upstream's human review marked non-spatial "
    "that the filter kept. Accuracy on each beside the full figure (<b>all</b>).</p>")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _with_ci(value: Any, low: Any, high: Any) -> str:
    return f"{_fmt(value)} [{_fmt(low)}, {_fmt(high)}]" if _fmt(value) else ""


def plot_accuracy_by_length(bin_rows: list[dict[str, Any]], reference_median: float | None):
    """Jury accuracy against mean words per length bin, one line per model (linear x axis: the
    bins span a few words; count labels sit below points near the top, clear of the title)."""
    from ct_spatial_bench.reporting.plots import _new_figure

    fig, ax = _new_figure(7.5, 4.2)
    for model in dict.fromkeys(r["model"] for r in bin_rows):
        mine = [r for r in bin_rows if r["model"] == model and r["words_mean"] > 0]
        ax.plot([r["words_mean"] for r in mine], [r["accuracy"] for r in mine], marker="o",
                label=model)
        for r in mine:
            below = r["accuracy"] > 0.9  # a label above a point at the top would hit the title
            ax.annotate(str(r["n"]), (r["words_mean"], r["accuracy"]), fontsize=6,
                        textcoords="offset points", xytext=(3, -9 if below else 3), alpha=0.7)
    if reference_median:
        ax.axvline(reference_median, color="grey", linestyle="--", linewidth=1,
                   label="reference median")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("answer words (bin mean; labels: n answers)")
    ax.set_ylabel("jury accuracy")
    ax.set_title("Accuracy by answer length")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def design_effect_html(accuracy_rows: list[dict[str, Any]], n_volumes: int) -> str:
    """Clustered against item-level interval width of the jury accuracy, per model."""
    rows = []
    for r in accuracy_rows:
        item_width = r.get("accuracy_ci_high_items", math.nan) - r.get("accuracy_ci_low_items",
                                                                       math.nan)
        width = r.get("accuracy_ci_high", math.nan) - r.get("accuracy_ci_low", math.nan)
        ratio = width / item_width if item_width else math.nan
        rows.append({"model": r["model"], "clustered_width": _fmt(width),
                     "item_width": _fmt(item_width), "width_ratio": _fmt(ratio),
                     "design_effect": _fmt(ratio ** 2)})
    return ("<p>Questions about one CT are correlated, so every interval in this report "
            "resamples volumes (all of a CT's questions together) and paired tests use the "
            "clustered McNemar test (p_clustered). Below, the 95% interval width of the jury "
            "accuracy resampled by volume against by question; design effect = width ratio "
            "squared: the variance inflation, so n questions carry the information of n / design "
            "effect independent ones. A ratio below 1 means a volume's questions disagree "
            "more than chance (answers balanced within a scan)."
            + (f" Only {n_volumes} volumes here: the clustered interval is itself rough."
               if n_volumes < 30 else "") + "</p>"
            + html_table(pd.DataFrame(rows)))


def offline_domain_html(domain_rows: list[dict[str, Any]]) -> str:
    """Per model, the share of answers outside the offline judge's training length range."""
    if not domain_rows:
        return "<p>The offline judge's artefact records no training length range.</p>"
    low, high = domain_rows[0]["train_words_low"], domain_rows[0]["train_words_high"]
    return (f"<p>The offline judge was fitted on public verdicts of terse models (answers of "
            f"{low:g}-{high:g} words, 1st-99th percentile). On answers outside that range its "
            f"verdicts are extrapolation: prefer the LLM jury for the models flagged.</p>"
            + html_table(pd.DataFrame(domain_rows)))


def validity_sections(
    tables: Mapping[str, list[dict[str, Any]]], accuracy_rows: list[dict[str, Any]],
    n_volumes: int,
) -> tuple[dict[str, str], dict[str, Any]]:
    """(sections, figures) for the report. ``tables`` holds the metrics' rows under length,
    length_bins, slots, slot_agreement, slot_disagreements, subsets and (optionally)
    offline_domain; a missing one leaves its section out."""
    sections: dict[str, str] = {}
    figures: dict[str, Any] = {}
    length = tables.get("length") or []
    if length:
        view = pd.DataFrame([{
            "model": r["model"], "words_mean": _fmt(r["answer_words_mean"]),
            "words_median": _fmt(r["answer_words_median"]), "accuracy": _fmt(r["accuracy"]),
            "length_standardised": _with_ci(r["accuracy_length_standardised"],
                                            r["accuracy_length_standardised_ci_low"],
                                            r["accuracy_length_standardised_ci_high"]),
            "slope_per_doubling": _with_ci(r["log_odds_per_doubling"],
                                           r["log_odds_per_doubling_ci_low"],
                                           r["log_odds_per_doubling_ci_high"]),
            "share_near_reference": _fmt(r["share_near_reference"])} for r in length])
        sections["Answer length and jury accuracy"] = (
            LENGTH_TEXT + f"<p>Reference answers: median {length[0]['reference_words_median']:g} "
            f"words; intervals from {length[0].get('n_boot', 0)} volume-clustered bootstrap "
            "draws.</p>" + html_table(view))
        figures["Accuracy by answer length"] = plot_accuracy_by_length(
            tables.get("length_bins") or [], length[0]["reference_words_median"])
    slots = tables.get("slots") or []
    if slots:
        overall = pd.DataFrame([{
            "model": r["model"], "category": r["category"], "n_slot": r["n_slot"],
            "slot_accuracy": _with_ci(r["slot_accuracy"], r["slot_accuracy_ci_low"],
                                      r["slot_accuracy_ci_high"]),
            "conflict": _fmt(r["slot_conflict_rate"]), "missing": _fmt(r["slot_missing_rate"]),
            "hedge": _fmt(r["slot_hedge_rate"])} for r in slots if r["n_slot"]])
        agreement = pd.DataFrame(tables.get("slot_agreement") or [])
        disagreements = pd.DataFrame((tables.get("slot_disagreements") or [])[:6])
        sections["Spatial-slot score"] = (
            SLOT_TEXT + html_table(overall)
            + "<p>Agreement of slot-correct with the jury's decision on the slot-scored items "
              "(Cohen's kappa):</p>" + html_table(agreement)
            + ("<p>Where they part, commonest first:</p>" + html_table(disagreements)
               if not disagreements.empty else ""))
    subsets = tables.get("subsets") or []
    if subsets:
        view = pd.DataFrame([{"model": r["model"], "subset": r["subset"], "n": r["n"],
                              "accuracy": _with_ci(r["accuracy"], r["accuracy_ci_low"],
                                                   r["accuracy_ci_high"])} for r in subsets])
        wide = view.pivot(index="model", columns="subset", values="accuracy").reset_index()
        counts = ", ".join(f"{r['model']} {r['subset']} {r['n']}" for r in subsets
                           if r["subset"] != "all")
        sections["Items that need the image, items reviewers rejected"] = (
            SUBSET_TEXT + html_table(wide) + f"<p>n decided per subset: {counts}.</p>")
    if "offline_domain" in tables:
        sections["The offline judge's domain"] = offline_domain_html(tables["offline_domain"])
    if accuracy_rows and "accuracy_ci_low_items" in accuracy_rows[0]:
        sections["Intervals clustered by volume (design effect)"] = design_effect_html(
            accuracy_rows, n_volumes)
    return sections, figures


# Each validity section's place in the report (reporting.sections.LAYOUT); the offline judge's
# domain is the judging stage's.
SECTION_KEYS = {
    "Answer length and jury accuracy": "metrics.length",
    "Spatial-slot score": "metrics.slots",
    "Items that need the image, items reviewers rejected": "metrics.subsets",
    "The offline judge's domain": "judging.offline_domain",
    "Intervals clustered by volume (design effect)": "metrics.design_effect",
}


def validity_section_rows(
    tables: Mapping[str, list[dict[str, Any]]], accuracy_rows: list[dict[str, Any]],
    n_volumes: int,
) -> list[dict[str, Any]]:
    """``validity_sections`` as report sections (``reporting.sections``); the length figure
    goes with the length section."""
    from ct_spatial_bench.reporting.sections import section_rows

    sections, figures = validity_sections(tables, accuracy_rows, n_volumes)
    rows = []
    for title, html in sections.items():
        mine = figures if SECTION_KEYS[title] == "metrics.length" else None
        rows += section_rows(SECTION_KEYS[title], {title: html}, figures=mine)
    return rows


def validity_section(
    length_rows: list[dict], length_bin_rows: list[dict], slot_rows: list[dict],
    slot_agreement_rows: list[dict], slot_disagreement_rows: list[dict],
    subset_rows: list[dict], accuracy_rows: list[dict], qa_items: list[dict],
) -> list[dict[str, Any]]:
    """``report_section_metrics`` from the metrics stage's tables (the metrics and the
    reproduce pipelines both write it): length, slots, subsets, the design effect."""
    return validity_section_rows(
        {"length": length_rows, "length_bins": length_bin_rows, "slots": slot_rows,
         "slot_agreement": slot_agreement_rows, "slot_disagreements": slot_disagreement_rows,
         "subsets": subset_rows}, accuracy_rows, len({q.get("case_id") for q in qa_items}))
