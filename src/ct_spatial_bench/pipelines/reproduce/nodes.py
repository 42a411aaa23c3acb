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
    from ct_spatial_bench.judges.offline import OfflineJudge
    from ct_spatial_bench.judges.runner import judge_predictions

    return judge_predictions([OfflineJudge()], qa_items, predictions)


def tabulate_reproduction(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    text_summary_rows: list[dict], params: dict[str, Any],
    offline_verdicts: list[dict] | None = None,
) -> Any:
    """summary.csv: upstream's text-metric columns and the jury accuracy under every rule."""
    import pandas as pd

    from ct_spatial_bench.reproduction.summary import reproduction_summary

    table = pd.DataFrame(reproduction_summary(qa_items, predictions, verdicts, text_summary_rows,
                                              n_boot=params.get("n_boot", 1000)))
    if offline_verdicts is not None:  # the offline judge against the jury
        from ct_spatial_bench.reproduction.summary import add_offline_agreement

        table = add_offline_agreement(table, verdicts, offline_verdicts)
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
    from ct_spatial_bench.judges.jury import jury_decision_rows

    return jury_decision_rows(verdicts, rule="mean066")


def estimate_upstream_intervals(per_item: list[dict], qa_items: list[dict],
                                predictions: list[dict], params: dict[str, Any]) -> list[dict]:
    """Bootstrap 95% interval of every text metric per model (corpus BLEU included)."""
    from ct_spatial_bench.metrics.statistics import text_metric_intervals

    return text_metric_intervals(per_item, qa_items, predictions,
                                 n_boot=params.get("n_boot", 1000))


def compare_upstream_model_pairs(decision_rows: list[dict],
                                 predictions: list[dict]) -> list[dict[str, Any]]:
    """Exact paired McNemar test of every pair of models under upstream's jury rule."""
    from ct_spatial_bench.metrics.statistics import paired_mcnemar
    from ct_spatial_bench.records import decisions_by_item

    return paired_mcnemar(decisions_by_item(decision_rows, "reproduction.jury_decisions"),
                          predictions)


def as_table(rows: list[dict[str, Any]]) -> Any:
    """Records as a DataFrame, for a CSV a reader opens."""
    import pandas as pd

    return pd.DataFrame(rows)


def compare_with_published(summary_df: Any, params: dict[str, Any]) -> Any:
    """Our summary beside upstream's published tables found under ``source_dir``."""
    import pandas as pd

    from ct_spatial_bench.reproduction.summary import published_comparison

    return pd.DataFrame(published_comparison(summary_df.to_dict("records"),
                                             params["source_dir"]))


def write_reproduction_report(
    qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
    text_summary_rows: list[dict], per_item_rows: list[dict], category_rows: list[dict],
    interval_rows: list[dict], paired_rows: list[dict], comparison_df: Any,
    params: dict[str, Any],
) -> str:
    """report.html for the reproduction: upstream's figures recomputed, with what it lacked."""
    from ct_spatial_bench.judges.jury import judge_agreement, jury_decisions
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model
    from ct_spatial_bench.reporting.report import full_html_report
    from ct_spatial_bench.reporting.summary import html_table

    decisions = jury_decisions(verdicts, rule="mean066")
    comparison = ("<p>Relative difference = (ours - published) / published. Jury figures differ "
                  "where fewer judges' files are public than upstream used.</p>"
                  + html_table(comparison_df)) if len(comparison_df) else "<p>None found.</p>"
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
    )
