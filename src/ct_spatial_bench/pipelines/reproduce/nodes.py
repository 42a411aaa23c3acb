"""Nodes that recompute upstream's published tables from its public files."""

from __future__ import annotations

from typing import Any


def read_upstream_files(params: dict[str, Any]) -> tuple[list, list, list, Any]:
    """Every upstream-format file under ``source_dir``, as QA items, predictions and verdicts
    joined by qa_id, and the list of files read with their checksums."""
    import pandas as pd

    from ct_spatial_bench.reproduction.summary import load_upstream_benchmark

    loaded = load_upstream_benchmark(params["source_dir"], params.get("qa_file"),
                                     params.get("categories_file"))
    return (loaded["qa_items"], loaded["predictions"], loaded["verdicts"],
            pd.DataFrame(loaded["sources"]))


def score_upstream_text(qa_items: list[dict], predictions: list[dict],
                        params: dict[str, Any]) -> list[dict[str, Any]]:
    """Upstream's per-item text metrics (METEOR required, ``params.meteor``) of every model."""
    from ct_spatial_bench.metrics.text import per_item_text_metrics

    return per_item_text_metrics(qa_items, predictions, sbert=params.get("sbert", True),
                                 meteor=params.get("meteor", "auto"))


def judge_offline(qa_items: list[dict], predictions: list[dict]) -> list[dict[str, Any]]:
    """The shipped offline judge's verdict on every prediction, kept apart from the jury's."""
    from ct_spatial_bench.judges.engine import judge_predictions
    from ct_spatial_bench.judges.offline.judge import OfflineJudge

    return judge_predictions([OfflineJudge()], qa_items, predictions)


def tabulate_reproduction(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    text_summary_rows: list[dict], params: dict[str, Any],
    length_rows: list[dict] | None = None, slot_rows: list[dict] | None = None,
    subset_rows: list[dict] | None = None,
) -> list[dict]:
    """summary.csv's rows: upstream's text-metric columns, the jury accuracy under every rule,
    and what it measures (length-standardised accuracy, slot score, accuracy on the items
    needing the image)."""
    from ct_spatial_bench.reproduction.summary import reproduction_summary, validity_columns

    rows = reproduction_summary(qa_items, predictions, verdicts, text_summary_rows,
                                n_boot=params.get("n_boot", 1000))
    return validity_columns(rows, length_rows or [], slot_rows or [], subset_rows or [])


def add_offline_columns(summary_rows: list[dict], verdicts: list[dict],
                        offline_verdicts: list[dict] | None, qa_items: list[dict],
                        predictions: list[dict]) -> Any:
    """summary.csv: the rows with the offline judge's agreement with the jury beside them."""
    import pandas as pd

    table = pd.DataFrame(summary_rows)
    if offline_verdicts is not None:  # the offline judge against the jury
        from ct_spatial_bench.reproduction.summary import add_offline_agreement

        table = add_offline_agreement(table, verdicts, offline_verdicts, qa_items, predictions)
    return table


def tabulate_reproduction_categories(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict]
) -> tuple[list[dict], Any]:
    """Per-category mean066 accuracy: the long rows (with n and intervals) and the wide table."""
    from ct_spatial_bench.reporting.tables import category_table
    from ct_spatial_bench.reproduction.summary import reproduction_categories

    rows = reproduction_categories(qa_items, predictions, verdicts)
    return rows, category_table(rows)


def score_as_upstream(qa_items: list[dict], predictions: list[dict], verdicts: list[dict]
                      ) -> tuple[Any, Any]:
    """Upstream's own scoring by key (judges/upstream_scoring.py): per-judge accuracy and the
    avg3 jury per model (upstream_scoring.csv), and its category table in percent
    (upstream_category_performance.csv), to compare with the published files as they are."""
    import pandas as pd

    from ct_spatial_bench.judges.upstream_scoring import (
        upstream_category_table,
        upstream_decisions,
        upstream_scores,
    )
    from ct_spatial_bench.reproduction.upstream_files import JUDGES

    decisions = upstream_decisions(verdicts, predictions, JUDGES)
    return (pd.DataFrame(upstream_scores(verdicts, predictions, JUDGES)),
            pd.DataFrame(upstream_category_table(qa_items, decisions, predictions)))


def decide_upstream_jury(verdicts: list[dict]) -> list[dict[str, Any]]:
    """Upstream's rule (mean of votes >= 0.66) as decision rows."""
    from ct_spatial_bench.judges.jury import jury_decision_rows

    return jury_decision_rows(verdicts, rule="mean066")


def estimate_upstream_intervals(per_item: list[dict], qa_items: list[dict],
                                predictions: list[dict], params: dict[str, Any]) -> list[dict]:
    """Bootstrap 95% interval of every text metric per model (corpus BLEU included)."""
    from ct_spatial_bench.metrics.intervals import text_metric_intervals

    return text_metric_intervals(per_item, qa_items, predictions,
                                 n_boot=params.get("n_boot", 1000))


def _decisions(rows: list[dict]) -> dict[tuple[str, str], str]:
    from ct_spatial_bench.records import decisions_by_item

    return decisions_by_item(rows, "reproduction.jury_decisions")


def compare_upstream_model_pairs(decision_rows: list[dict], predictions: list[dict],
                                 qa_items: list[dict]) -> list[dict[str, Any]]:
    """Paired McNemar tests (exact by item, and clustered by volume) of every pair of models
    under upstream's jury rule."""
    from ct_spatial_bench.metrics.accuracy import volume_of
    from ct_spatial_bench.metrics.intervals import paired_mcnemar

    return paired_mcnemar(_decisions(decision_rows), predictions, volume=volume_of(qa_items))


def tabulate_upstream_slot_scores(qa_items: list[dict], slot_rows: list[dict],
                                  params: dict[str, Any]) -> list[dict[str, Any]]:
    """Slot accuracy (clustered interval), conflict, missing and hedge rates per model, category."""
    from ct_spatial_bench.metrics.slots import slot_table

    return slot_table(qa_items, slot_rows, n_boot=params.get("n_boot", 1000))


def compare_upstream_slots_with_jury(slot_rows: list[dict], decision_rows: list[dict],
                                     qa_items: list[dict], predictions: list[dict]) -> tuple:
    """Kappa of slot-correct against upstream's jury, and the commonest disagreements."""
    from ct_spatial_bench.metrics.slots import slots_against_jury

    return slots_against_jury(slot_rows, _decisions(decision_rows), qa_items, predictions)


def analyse_upstream_answer_length(qa_items: list[dict], predictions: list[dict],
                                   decision_rows: list[dict]) -> tuple:
    """Accuracy adjusted to the reference length, and by length bin, under upstream's jury."""
    from ct_spatial_bench.metrics.length import length_analysis

    return length_analysis(qa_items, predictions, _decisions(decision_rows))


def answer_from_question_alone(qa_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blind prior's answer to every question (question text only; the asked case's own
    items left out of its prior), as predictions of the model ``blind_prior``."""
    from ct_spatial_bench.baselines.blind import BlindBaseline
    from ct_spatial_bench.models.base import Question

    prior = BlindBaseline()
    prior.load({"answer_prior": qa_items})
    answers = prior.answer_volume(None, [Question(qa["qa_id"], qa["question"])
                                         for qa in qa_items])
    return [{"qa_id": qa["qa_id"], "model": "blind_prior", "prediction": answer.text,
             "status": "ok", **prior.describe()} for qa, answer in zip(qa_items, answers)]


def score_upstream_subsets(
    qa_items: list[dict], predictions: list[dict], decision_rows: list[dict],
    prior_verdicts: list[dict], params: dict[str, Any],
) -> list[dict[str, Any]]:
    """needs_image (the blind prior's answers that the offline judge calls incorrect: upstream
    has no jury verdicts on them) and human_rejected (curation/gemini_human_disagreements.json
    under ``source_dir``, or ``human_review_file``)."""
    from ct_spatial_bench.judges.jury import jury_decisions
    from ct_spatial_bench.metrics.subsets import accuracy_on_subsets
    from ct_spatial_bench.reproduction.upstream_files import HUMAN_REVIEW_FILE, find_one

    review = params.get("human_review_file") or find_one(params["source_dir"], HUMAN_REVIEW_FILE)
    return accuracy_on_subsets(
        qa_items, predictions, _decisions(decision_rows),
        blind_prior="blind_prior", prior_decisions=jury_decisions(prior_verdicts, rule="majority"),
        human_review_file=review, n_boot=params.get("n_boot", 1000))


def as_table(rows: list[dict[str, Any]]) -> Any:
    """Records as a DataFrame, for a CSV a reader opens."""
    import pandas as pd

    return pd.DataFrame(rows)


def compare_with_published(summary_df: Any, params: dict[str, Any],
                           upstream_df: Any = None) -> Any:
    """Our summary (and upstream's scoring, ``jury_upstream_avg3``) beside upstream's published
    tables found under ``source_dir``.

    A folder without them (a user's own predictions) gives a table with its header and no rows,
    so the CSV reads back and the report says none were found."""
    import pandas as pd

    from ct_spatial_bench.reproduction.summary import COMPARISON_COLUMNS, published_comparison

    rows = summary_df.to_dict("records")
    if upstream_df is not None:  # upstream's avg3 beside our key-joined mean066, per model
        avg3 = dict(zip(upstream_df["model"], upstream_df["upstream_avg3"]))
        rows = [{**row, "jury_upstream_avg3": avg3.get(row["model"], float("nan"))}
                for row in rows]
    return pd.DataFrame(published_comparison(rows, params["source_dir"]),
                        columns=list(COMPARISON_COLUMNS))


def score_upstream_accuracy(qa_items: list[dict], predictions: list[dict],
                            verdicts: list[dict], params: dict[str, Any]) -> list[dict]:
    """Jury accuracy per model under upstream's rule (mean066), with volume-clustered intervals."""
    from ct_spatial_bench.judges.jury import jury_decisions
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model

    return accuracy_by_model(qa_items, predictions, jury_decisions(verdicts, rule="mean066"),
                             n_boot=params.get("n_boot", 1000))


def write_validity_section(*tables: list[dict]) -> list[dict]:
    """What the jury figure measures (length, slots, subsets, the design effect).
    Its eight tables in ``reporting.validity.validity_section``'s order."""
    from ct_spatial_bench.reporting.validity import validity_section

    return validity_section(*tables)


def write_offline_domain_section(predictions: list[dict]) -> list[dict]:
    """The offline judge's length domain against every model read."""
    from ct_spatial_bench.judges.offline.training import answers_outside_domain
    from ct_spatial_bench.reporting.validity import validity_section_rows

    return validity_section_rows({"offline_domain": answers_outside_domain(predictions)}, [], 0)


def write_results_section(category_rows: list[dict], verdicts: list[dict], qa_items: list[dict],
                          predictions: list[dict], interval_rows: list[dict],
                          paired_rows: list[dict]) -> list[dict]:
    """Caveats, figures (judge agreement per model), text-metric intervals, paired tests."""
    from ct_spatial_bench.judges.jury import judge_agreement
    from ct_spatial_bench.reporting.report import results_sections

    return results_sections(category_rows, judge_agreement(verdicts, by_model=True), qa_items,
                            predictions, interval_rows, paired_rows)


def write_answers_section(qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
                          per_item_rows: list[dict]) -> list[dict]:
    """The failure browser under upstream's rule."""
    from ct_spatial_bench.judges.jury import jury_decisions
    from ct_spatial_bench.reporting.report import failure_sections

    return failure_sections(qa_items, predictions, verdicts,
                            jury_decisions(verdicts, rule="mean066"), per_item_rows)


def write_comparison_section(comparison_df: Any) -> list[dict]:
    """Our figures against the published tables, or why there are none."""
    from ct_spatial_bench.reporting.sections import section_rows
    from ct_spatial_bench.reporting.summary import html_table

    comparison = ("<p>Relative difference = (ours - published) / published. Jury figures differ "
                  "where fewer judges' files are public than upstream used.</p>"
                  + html_table(comparison_df)) if len(comparison_df) else (
        "<p>No published tables (text_metrics_summary.csv, llm_jury_accuracy.json) were found "
        "under the source folder: nothing to compare with.</p>")
    return section_rows("reproduce.comparison",
                        {"Reproduction against the published tables": comparison})


def collect_sections(**stages: list[dict] | None) -> list[dict]:
    """Every section in the report's order, as dicts (saved as JSON Lines in this namespace)."""
    from ct_spatial_bench.reporting.sections import collect

    return [section.to_dict() for section in collect(stages.values())]


def write_reproduction_report(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict], params: dict[str, Any],
    accuracy_rows: list[dict], text_summary_rows: list[dict], category_rows: list[dict],
    sections: list[Any],
) -> str:
    """report.html for the reproduction: upstream's figures recomputed, with what it lacked."""
    from ct_spatial_bench.records import entry_of
    from ct_spatial_bench.reporting.report import assemble_report

    run_info = {"source": params["source_dir"], "n_questions": len(qa_items),
                "models": sorted({entry_of(p) for p in predictions}),
                "judges": sorted({v["judge"] for v in verdicts}),
                "jury_rule": "mean066 (upstream's)"}
    return assemble_report(run_info, accuracy_rows, text_summary_rows, category_rows, qa_items,
                           sections)
