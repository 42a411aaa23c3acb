"""Upstream's scoring, by key: per-judge accuracy, the avg3 jury and the category table, as
CT-SpatialVQA computed them (github.com/Mashrafi27/CT-SpatialVQA at e25374c,
benchmarking/eval_scripts/scripts/), beside this project's own.

What is upstream's here:
- per judge: correct verdicts over the judge's decided ones (a null ``is_correct``, our
  ``failed``, left out), the ``accuracy`` each evaluate_with_<judge>.py prints and the paper's
  Table 1 reports (VILA-M3's Gemini: 2,675 of 9,072, 29.49, not of 9,077);
- the jury (``upstream_avg3``, judges/jury.py): every judge votes, a failed or missing vote is 0,
  the mean floored to two decimals, correct at >= 0.66 (build_correctness_matrix.py); accuracy over
  the items with any verdict (compute_llm_jury_accuracy.py, ``--missing skip``);
- the category table: per category, the QA items tagged with it (``count``), and per model the
  avg3-correct items over all of them, a missing decision counting 0, in percent to two decimals
  (build_category_performance.py ``--binarize-avg3 --missing zero``, the published file).

What is knowingly not: upstream joined its verdict files to each other and to the questions by
position (a shorter file shifted every later verdict); here every vote is joined by (model,
qa_id). And a prediction whose model call failed (status ``error``) stays outside every
denominator, as everywhere in this project; upstream's files have none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ct_spatial_bench.judges.jury import jury_decisions
from ct_spatial_bench.records import (CORRECT, ERROR, FAILED, ItemKey, Prediction, Verdict,
                                      entry_of, qa_item)
from ct_spatial_bench.spatial.categories import canonical_category

RULE = "upstream_avg3"


def _predictions(rows: Iterable[Mapping[str, Any]]) -> list[Prediction]:
    """Predictions as records, at each public function's door (a test's rows, a script's)."""
    return [Prediction.from_dict(row, f"prediction {i}") for i, row in enumerate(rows, start=1)]


def _verdicts(rows: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """Verdicts as records, named as the jury names them (``jury.verdicts_by_item``)."""
    return [Verdict.from_dict(row, f"verdict {i}") for i, row in enumerate(rows, start=1)]


def _errored(predictions: Iterable[Prediction]) -> set[ItemKey]:
    return {p.key for p in predictions if p.status == ERROR}


def upstream_decisions(verdicts: Iterable[Mapping[str, Any]],
                       predictions: Iterable[Mapping[str, Any]],
                       judges: Sequence[str] | None = None) -> dict[ItemKey, str]:
    """avg3 decisions by (entry, qa_id), errored predictions left out."""
    errored = _errored(_predictions(predictions))
    return {key: decision for key, decision in jury_decisions(verdicts, judges, RULE).items()
            if key not in errored}


def upstream_scores(verdicts: Sequence[Mapping[str, Any]],
                    predictions: Sequence[Mapping[str, Any]],
                    judges: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per model: ``n_items`` (avg3's count), ``upstream_avg3`` and, per judge,
    ``judge_<name>`` (correct over its decided verdicts) with ``n_<name>`` (those decided)."""
    verdicts, predictions = _verdicts(verdicts), _predictions(predictions)
    errored = _errored(predictions)
    decisions = upstream_decisions(verdicts, predictions, judges)
    names = list(judges) if judges is not None else sorted({v.judge for v in verdicts})
    rows = []
    for model in dict.fromkeys(map(entry_of, predictions)):
        mine = [d for (m, _), d in decisions.items() if m == model]
        row: dict[str, Any] = {"model": model, "n_items": len(mine),
                               "upstream_avg3": (sum(d == CORRECT for d in mine) / len(mine)
                                                 if mine else float("nan"))}
        for judge in names:
            votes = [v.verdict for v in verdicts if entry_of(v) == model and v.judge == judge
                     and v.verdict != FAILED and (model, v.qa_id) not in errored]
            row[f"judge_{judge}"] = (sum(v == CORRECT for v in votes) / len(votes)
                                     if votes else float("nan"))
            row[f"n_{judge}"] = len(votes)
        rows.append(row)
    return rows


def upstream_category_table(qa_items: Iterable[Mapping[str, Any]],
                            decisions: Mapping[ItemKey, str],
                            predictions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows ``{category, count, <model>: percent}`` sorted by category name, as upstream's
    category_performance.csv: a missing decision is 0 over every item of the category (an
    errored prediction is left out of its model's denominator)."""
    predictions = _predictions(predictions)
    errored = _errored(predictions)
    models = list(dict.fromkeys(map(entry_of, predictions)))
    items_in: dict[str, list[str]] = {}
    for qa in map(qa_item, qa_items):  # rows too (a test's, a script's)
        for name in dict.fromkeys(canonical_category(c) for c in qa.categories or []):
            items_in.setdefault(name, []).append(qa.qa_id)
    rows = []
    for category in sorted(items_in):
        qa_ids = items_in[category]
        row: dict[str, Any] = {"category": category, "count": len(qa_ids)}
        for model in models:
            counted = [q for q in qa_ids if (model, q) not in errored]
            correct = sum(decisions.get((model, q)) == CORRECT for q in counted)
            row[model] = float(f"{100.0 * correct / len(counted):.2f}") if counted else None
        rows.append(row)
    return rows


def side_by_side(verdicts: Sequence[Mapping[str, Any]], predictions: Sequence[Mapping[str, Any]],
                 judges: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per model, upstream's scoring (avg3 and per judge) beside this project's (majority and
    mean066 over the items the jury decided, a failed vote no vote, errors outside)."""
    from ct_spatial_bench.records import INCORRECT

    verdicts, predictions = _verdicts(verdicts), _predictions(predictions)
    errored = _errored(predictions)
    ours = {rule: {k: d for k, d in jury_decisions(verdicts, judges, rule).items()
                   if k not in errored and d in (CORRECT, INCORRECT)}
            for rule in ("majority", "mean066")}
    rows = []
    for row in upstream_scores(verdicts, predictions, judges):
        model = row["model"]
        out = {"model": model, "upstream_avg3": row["upstream_avg3"],
               "upstream_n": row["n_items"]}
        for rule, decisions in ours.items():
            mine = [d for (m, _), d in decisions.items() if m == model]
            out[f"ours_{rule}"] = (sum(d == CORRECT for d in mine) / len(mine)
                                   if mine else float("nan"))
            out[f"ours_{rule}_n"] = len(mine)
        out.update({k: v for k, v in row.items() if k.startswith(("judge_", "n_"))
                    and k != "n_items"})
        rows.append(out)
    return rows
