"""The worst failures per model and spatial category: what a reader opens to see how models fail.

A failure is an item the jury decided incorrect (a model error is not: it is no answer, counted
apart as in the accuracy tables).
Within a (model, category) cell the worst come first: fewest judges voting correct, then the
prediction least similar to the reference (SBERT cosine where computed, else token F1). The HTML
is plain ``<details>`` elements, so it is browsable with no JavaScript, and every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from ct_spatial_bench.metrics.accuracy import effective_decisions
from ct_spatial_bench.records import (CORRECT, INCORRECT, ItemKey, Verdict, as_prediction, index_by,
                                      index_by_item, qa_item)
from ct_spatial_bench.spatial.categories import CATEGORIES, canonical_category

def _category(name: str) -> str:
    try:
        return canonical_category(name)
    except ValueError:
        return name


def _similarity(row: Mapping[str, Any] | None) -> float:
    for metric in ("sbert_cosine", "token_f1"):
        value = (row or {}).get(metric)
        if value is not None:
            return float(value)
    return 0.0


def worst_failures(
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
    verdicts: Iterable[dict[str, Any]],
    decisions: Mapping[ItemKey, str],
    per_item_rows: Iterable[dict[str, Any]] = (),
    per_cell: int = 10,
) -> list[dict[str, Any]]:
    """Up to ``per_cell`` failures per (model, category), worst first, joined by (model, qa_id).

    An item with several categories appears under each; an item without one under
    ``(uncategorised)``.
    """
    qa_by_id = index_by(map(qa_item, qa_items), "qa_id")
    predictions = [as_prediction(p) for p in predictions]
    pred_by_key = index_by_item(predictions, "predictions")
    decisions = effective_decisions(decisions, predictions)
    votes: dict[ItemKey, list[Verdict]] = {}
    for i, row in enumerate(verdicts, start=1):
        verdict = Verdict.from_dict(row, where=f"verdict {i}")  # a record as it is
        votes.setdefault(verdict.key, []).append(verdict)
    metrics_of = index_by_item(per_item_rows, "text metrics per item")
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, decision in decisions.items():
        if decision != INCORRECT or key[1] not in qa_by_id:
            continue
        qa, pred = qa_by_id[key[1]], pred_by_key.get(key)
        item_votes = sorted(votes.get(key, []), key=lambda v: v.judge)
        row = {
            "model": key[0], "qa_id": key[1], "question": qa.question, "answer": qa.answer,
            # a decision with no prediction behind it shows as blank, as it always has
            "prediction": pred.prediction if pred else "", "status": pred.status if pred else "",
            "error": (pred.error if pred else None) or "",
            "votes": "; ".join(f"{v.judge}: {v.verdict}" for v in item_votes),
            "reasons": " | ".join(f"{v.judge}: {v.reason}" for v in item_votes if v.reason),
            "n_correct_votes": sum(v.verdict == CORRECT for v in item_votes),
            "similarity": _similarity(metrics_of.get(key)),
        }
        names = list(dict.fromkeys(_category(c) for c in qa.categories or []))
        for category in names or ["(uncategorised)"]:
            cells.setdefault((key[0], category), []).append({**row, "category": category})
    out = []
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for model, category in sorted(cells, key=lambda k: (k[0], order.get(k[1], 99), k[1])):
        ranked = sorted(cells[(model, category)],
                        key=lambda r: (r["n_correct_votes"], r["similarity"], r["qa_id"]))
        out.extend(ranked[:per_cell])
    return out


def failures_html(rows: Iterable[dict[str, Any]]) -> str:
    """Nested ``<details>``: model, then category (with its count shown), then a table of items."""
    esc = html.escape
    by_model: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        by_model.setdefault(row["model"], {}).setdefault(row["category"], []).append(row)
    if not by_model:
        return "<p>No failures to show.</p>"
    parts = []
    for model, categories in by_model.items():
        # an item with several categories is listed under each: count items, not rows
        shown = len({r["qa_id"] for rows_ in categories.values() for r in rows_})
        parts.append(f'<details class="failures"><summary>{esc(model)} ({shown} wrong '
                     f'item{"s" if shown != 1 else ""} shown, each under every one of its '
                     f'categories)</summary>')
        for category, items in categories.items():
            parts.append(f"<details><summary>{esc(category)} ({len(items)})</summary>"
                         "<table class=\"failures\"><thead><tr><th>qa_id</th><th>question</th>"
                         "<th>reference</th><th>prediction</th><th>votes</th><th>similarity</th>"
                         "</tr></thead><tbody>")
            for item in items:
                prediction = item["prediction"] or f"[{item['status']}] {item['error']}"
                votes = esc(item["votes"])
                if item["reasons"]:
                    votes += f'<br><small>{esc(item["reasons"])}</small>'
                parts.append(
                    f"<tr><td>{esc(item['qa_id'])}</td><td>{esc(item['question'])}</td>"
                    f"<td>{esc(item['answer'])}</td><td>{esc(prediction)}</td><td>{votes}</td>"
                    f"<td>{item['similarity']:.2f}</td></tr>"
                )
            parts.append("</tbody></table></details>")
        parts.append("</details>")
    return "\n".join(parts)
