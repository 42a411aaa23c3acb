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


def tabulate_reproduction(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    text_summary_rows: list[dict], params: dict[str, Any],
    offline_verdicts: list[dict] | None = None,
    length_rows: list[dict] | None = None, slot_rows: list[dict] | None = None,
    subset_rows: list[dict] | None = None,
) -> Any:
    """summary.csv: upstream's text-metric columns, the jury accuracy under every rule, and what
    it measures (length-adjusted accuracy, slot score, accuracy on the items needing the image)."""
    import pandas as pd

    from ct_spatial_bench.reproduction.summary import reproduction_summary, validity_columns

    rows = reproduction_summary(qa_items, predictions, verdicts, text_summary_rows,
                                n_boot=params.get("n_boot", 1000))
    table = pd.DataFrame(validity_columns(rows, length_rows or [], slot_rows or [],
                                          subset_rows or []))
    # --- offline_kappa / offline_accuracy, the offline judge against the jury ---
    if offline_verdicts is not None:
        from ct_spatial_bench.pipelines.offline_judge.nodes import add_offline_agreement

        table = add_offline_agreement(table, verdicts, offline_verdicts)
    # --- end ---
    return table


def tabulate_reproduction_categories(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict]
) -> tuple[list[dict], Any]:
    """Per-category mean066 accuracy: the long rows (with n and intervals) and the wide table."""
    from ct_spatial_bench.reporting.tables import category_table
    from ct_spatial_bench.reproduction.summary import reproduction_categories

    rows = reproduction_categories(qa_items, predictions, verdicts)
    return rows, category_table(rows)


def decide_upstream_jury(verdicts: list[dict]) -> list[dict[str, Any]]:
    """Upstream's rule (mean of votes >= 0.66) as decision rows."""
    from ct_spatial_bench.pipelines.metrics.nodes import decide_jury

    return decide_jury(verdicts, {"jury_rule": "mean066"})


def answer_from_question_alone(qa_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blind prior's answer to every question (question text only; the asked case's own
    items left out of its prior), as predictions of the model ``blind_prior``."""
    from ct_spatial_bench.models.base import Question
    from ct_spatial_bench.models.blind import BlindBaseline

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
    from ct_spatial_bench.pipelines.metrics.nodes import decide_jury, score_subsets
    from ct_spatial_bench.reproduction.upstream_files import HUMAN_REVIEW_FILE, find_one

    review = params.get("human_review_file") or find_one(params["source_dir"], HUMAN_REVIEW_FILE)
    return score_subsets(qa_items, predictions, decision_rows,
                         {**params, "blind_prior": "blind_prior", "human_review_file": review},
                         decide_jury(prior_verdicts, {"jury_rule": "majority"}))


def as_table(rows: list[dict[str, Any]]) -> Any:
    """Records as a DataFrame, for a CSV a reader opens."""
    import pandas as pd

    return pd.DataFrame(rows)


def compare_with_published(summary_df: Any, params: dict[str, Any]) -> Any:
    """Our summary beside upstream's published tables found under ``source_dir``.

    A folder without them (a user's own predictions) gives a table with its header and no rows,
    so the CSV reads back and the report says none were found."""
    import pandas as pd

    from ct_spatial_bench.reproduction.summary import COMPARISON_COLUMNS, published_comparison

    return pd.DataFrame(published_comparison(summary_df.to_dict("records"), params["source_dir"]),
                        columns=list(COMPARISON_COLUMNS))


def write_reproduction_report(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    text_summary_rows: list[dict], per_item_rows: list[dict], category_rows: list[dict],
    interval_rows: list[dict], paired_rows: list[dict], comparison_df: Any,
    params: dict[str, Any], length_rows: list[dict], length_bin_rows: list[dict],
    slot_rows: list[dict], slot_agreement_rows: list[dict], slot_disagreement_rows: list[dict],
    subset_rows: list[dict],
) -> str:
    """report.html for the reproduction: upstream's figures recomputed, with what it lacked."""
    from ct_spatial_bench.judges.jury import judge_agreement, jury_decisions
    from ct_spatial_bench.judges.offline_training import answers_outside_domain
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model
    from ct_spatial_bench.reporting.report import full_html_report
    from ct_spatial_bench.reporting.summary import html_table

    decisions = jury_decisions(verdicts, rule="mean066")
    comparison = ("<p>Relative difference = (ours - published) / published. Jury figures differ "
                  "where fewer judges' files are public than upstream used.</p>"
                  + html_table(comparison_df)) if len(comparison_df) else (
        "<p>No published tables (text_metrics_summary.csv, llm_jury_accuracy.json) were found "
        "under the source folder: nothing to compare with.</p>")
    return full_html_report(
        qa_items=qa_items, predictions=predictions, verdicts=verdicts, decisions=decisions,
        accuracy_rows=accuracy_by_model(qa_items, predictions, decisions,
                                        n_boot=params.get("n_boot", 1000)),
        text_summary_rows=text_summary_rows, per_item_rows=per_item_rows,
        category_rows=category_rows, agreement_rows=judge_agreement(verdicts, by_model=True),
        interval_rows=interval_rows, paired_rows=paired_rows,
        run_info={"source": params["source_dir"], "n_questions": len(qa_items),
                  "models": sorted({p["model"] for p in predictions}),
                  "judges": sorted({v["judge"] for v in verdicts}),
                  "jury_rule": "mean066 (upstream's)"},
        extra_sections={"Reproduction against the published tables": comparison},
        validity_tables={"length": length_rows, "length_bins": length_bin_rows,
                         "slots": slot_rows, "slot_agreement": slot_agreement_rows,
                         "slot_disagreements": slot_disagreement_rows, "subsets": subset_rows,
                         "offline_domain": answers_outside_domain(predictions)},
    )
