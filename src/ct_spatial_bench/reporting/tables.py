"""Tables across models: the per-item correctness matrix, the category table, the leaderboard.

Tables that are saved as CSV keep their keys as columns (``model``, ``category``), so a plain
``to_csv(index=False)`` keeps them; the correctness matrix is indexed by ``qa_id``, the key it is
joined on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ct_spatial_bench.records import CORRECT, INCORRECT, entry_of, index_by, qa_item
from ct_spatial_bench.spatial.categories import CATEGORIES

JURY_COLUMN = "jury"
CATEGORIES_COLUMN = "categories"


def _score(verdict: str | None) -> float:
    return 1.0 if verdict == CORRECT else 0.0 if verdict == INCORRECT else np.nan


def correctness_matrix(
    qa_items: Iterable[dict[str, Any]],
    verdicts: Iterable[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str],
) -> pd.DataFrame:
    """Items x (model, judge): 1 correct, 0 incorrect, NaN failed or missing.

    Index ``qa_id`` in QA order; a ``categories`` column ("; "-joined); then, per model in sorted
    order, one column ``<model>/<judge>`` per judge and ``<model>/jury`` for the jury's decision.
    Verdicts and decisions are placed by (entry, qa_id) key (``records.entry_of``: a blind control
    is a model of its own here), so input order does not matter; those for items outside the QA
    are ignored (the accuracy functions are the ones that check).
    To show a model's error predictions as 0 in its jury column, pass
    ``metrics.accuracy.effective_decisions(decisions, predictions)``.
    """
    qa_by_id = index_by(map(qa_item, qa_items), "qa_id")
    qa_ids = list(qa_by_id)
    columns: dict[str, dict[str, float]] = {}
    for verdict in verdicts:
        column = f"{entry_of(verdict)}/{verdict['judge']}"
        columns.setdefault(column, {})[verdict["qa_id"]] = _score(verdict["verdict"])
    for (model, qa_id), decision in decisions.items():
        columns.setdefault(f"{model}/{JURY_COLUMN}", {})[qa_id] = _score(decision)

    def order(column: str) -> tuple[str, bool, str]:
        model, judge = column.rsplit("/", 1)
        return model, judge == JURY_COLUMN, judge

    frame = pd.DataFrame(index=pd.Index(qa_ids, name="qa_id"))
    frame[CATEGORIES_COLUMN] = ["; ".join(qa_by_id[q].categories or []) for q in qa_ids]
    for column in sorted(columns, key=order):
        values = columns[column]
        frame[column] = [values.get(q, np.nan) for q in qa_ids]
    return frame


def category_table(category_rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Categories x models of accuracy (0-1), with ``n`` the number of QA items per category.

    Rows follow the six categories' canonical order (any other name after them); the shape of
    upstream's category_performance.csv, in fractions rather than percent.
    """
    rows = list(category_rows)
    if not rows:
        return pd.DataFrame(columns=["category", "n"])
    frame = pd.DataFrame(rows)
    wide = frame.pivot(index="category", columns="model", values="accuracy")
    n_items = frame.groupby("category")["n_items"].max()
    models = list(dict.fromkeys(frame["model"]))
    order = [c for c in CATEGORIES if c in wide.index]
    order += sorted(c for c in wide.index if c not in CATEGORIES)
    table = wide.reindex(index=order, columns=models)
    table.insert(0, "n", n_items.reindex(order).astype(int))
    table.columns.name = None
    return table.reset_index()


def category_table_with_intervals(category_rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """``category_table`` for a reader: each cell "accuracy [low, high] (n judged)"."""
    rows = list(category_rows)

    def cell(r: dict[str, Any]) -> str:
        if r.get("accuracy") is None or math.isnan(r["accuracy"]):
            return ""
        low, high = r.get("accuracy_ci_low"), r.get("accuracy_ci_high")
        ci = f" [{low:.3f}, {high:.3f}]" if low is not None and not math.isnan(low) else ""
        return f"{r['accuracy']:.3f}{ci} (n={r.get('n', '')})"

    return category_table([{**r, "accuracy": cell(r)} for r in rows])


def category_overlap_note(qa_items: Iterable[dict[str, Any]]) -> str:
    """One sentence: how many items carry several categories, and what n sums to."""
    counts = [len(set(q.get("categories") or [])) for q in qa_items]
    several = sum(c > 1 for c in counts)
    return (f"Categories overlap: {several} of {len(counts)} items carry several categories and "
            f"count in each, so n sums to {sum(counts)}. Intervals: 95% bootstrap resampling "
            f"volumes; n in brackets: items judged in the category.")


LEADERBOARD_COLUMNS = (
    "model", "accuracy", "accuracy_ci_low", "accuracy_ci_high", "n_items", "n_judged",
    "n_correct", "n_failed", "n_errors", "n_missing", "count", "n_empty", "bleu",
    "rouge1_f", "rouge2_f", "rougeL_f", "sbert_cosine", "exact_match", "token_f1",
)


def leaderboard(
    accuracy_rows: Iterable[dict[str, Any]], text_summary_rows: Iterable[dict[str, Any]]
) -> pd.DataFrame:
    """One row per model, best jury accuracy first: the accuracy figures, then the text metrics.

    Models present in only one input are kept (their other columns NaN) so none drops out unseen.
    """
    accuracy = pd.DataFrame(list(accuracy_rows))
    text = pd.DataFrame(list(text_summary_rows))
    if accuracy.empty and text.empty:
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    if accuracy.empty:
        merged = text
    elif text.empty:
        merged = accuracy
    else:
        text = text.drop(columns=[c for c in ("n_errors",) if c in text.columns])
        merged = accuracy.merge(text, on="model", how="outer")
    for column in LEADERBOARD_COLUMNS:
        if column not in merged.columns:
            merged[column] = np.nan
    extra = [c for c in merged.columns if c not in LEADERBOARD_COLUMNS]
    merged = merged[list(LEADERBOARD_COLUMNS) + extra]
    return merged.sort_values(["accuracy", "model"], ascending=[False, True],
                              na_position="last").reset_index(drop=True)
