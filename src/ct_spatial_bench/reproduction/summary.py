"""Upstream's published tables recomputed from its public files: text metrics, jury accuracy,
categories.

``load_upstream_benchmark`` turns a folder of upstream-format files into this project's records
(QA items, predictions, verdicts, all keyed by ``qa_id``); ``reproduction_summary`` gives the one
row per model that upstream's text_metrics_summary.csv and llm_jury_accuracy.json hold together,
under every jury rule.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ct_spatial_bench.judges.jury import jury_decisions
from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model
from ct_spatial_bench.judges.upstream import predictions_from_upstream, verdicts_from_upstream
from ct_spatial_bench.records import Prediction, Verdict, entry_of, load_qa_items
from ct_spatial_bench.reproduction.upstream_files import (
    CATEGORIES_FILE,
    JUDGES,
    PREDICTIONS,
    QA_FILE,
    attach_categories,
    discover_upstream_files,
    find_one,
    read_json_rows,
    sha256_of,
)

logger = logging.getLogger(__name__)

SUMMARY_COLUMNS = (
    "model", "count", "bleu", "meteor", "rouge1_f", "rouge2_f", "rougeL_f", "sbert_cosine",
    "judges", "n_judged", "jury_mean066", "jury_majority", "jury_strict",
)


def _resolve(source_dir: Path, given: str | os.PathLike | None, name: str) -> Path | None:
    if given:
        path = Path(given)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        return path
    return find_one(source_dir, name)


def load_upstream_benchmark(
    source_dir: str | os.PathLike,
    qa_file: str | os.PathLike | None = None,
    categories_file: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Every upstream-format file under ``source_dir`` as records joined to the QA by key.

    ``qa_file`` and ``categories_file`` default to upstream's file names found under
    ``source_dir``; without a categories file the items keep the QA file's categories (none).
    Returns ``qa_items``, ``predictions``, ``verdicts`` and ``sources`` (one row per file read:
    model, kind, path, sha256, rows).
    """
    source_dir = Path(source_dir)
    files = discover_upstream_files(source_dir)
    qa_path = _resolve(source_dir, qa_file, QA_FILE)
    if qa_path is None:
        raise FileNotFoundError(f"no {QA_FILE} under {source_dir}; set reproduce.qa_file")
    qa_items = load_qa_items(qa_path)
    sources = [{"model": "", "kind": "qa", "path": str(qa_path), "sha256": sha256_of(qa_path),
                "rows": len(qa_items)}]
    categories_path = _resolve(source_dir, categories_file, CATEGORIES_FILE)
    if categories_path is not None:
        qa_items = attach_categories(qa_items, categories_path)
        sources.append({"model": "", "kind": "categories", "path": str(categories_path),
                        "sha256": sha256_of(categories_path), "rows": len(qa_items)})
    predictions: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    for model, kinds in files.items():
        if PREDICTIONS not in kinds:
            logger.warning("model %s: verdict files %s but no predictions file; skipped",
                           model, sorted(kinds))
            continue
        preds = predictions_from_upstream(qa_items, read_json_rows(kinds[PREDICTIONS]), model,
                                          source=str(kinds[PREDICTIONS]))
        for pred in preds:  # which file it came from is the only revision upstream gives
            pred["model_revision"] = f"upstream:{kinds[PREDICTIONS].name}"
        predictions.extend(preds)
        sources.append({"model": model, "kind": PREDICTIONS, "path": str(kinds[PREDICTIONS]),
                        "sha256": sha256_of(kinds[PREDICTIONS]), "rows": len(preds)})
        for judge in JUDGES:
            if judge in kinds:
                rows = verdicts_from_upstream(preds, read_json_rows(kinds[judge]), judge,
                                              source=str(kinds[judge]))
                for row in rows:
                    row["judge_model"] = f"upstream:{kinds[judge].name}"
                verdicts.extend(rows)
                sources.append({"model": model, "kind": judge, "path": str(kinds[judge]),
                                "sha256": sha256_of(kinds[judge]), "rows": len(rows)})
    if not predictions:
        raise FileNotFoundError(f"no <model>_predictions_full.jsonl under {source_dir}")
    return {"qa_items": qa_items, "predictions": predictions, "verdicts": verdicts,
            "sources": sources}


PROJECT_RULES = ("majority", "strict", "mean066")  # upstream_avg3: upstream_scoring.csv


def decisions_by_rule(verdicts: list[dict[str, Any]]) -> dict[str, dict[tuple[str, str], str]]:
    return {rule: jury_decisions(verdicts, rule=rule) for rule in PROJECT_RULES}


def reproduction_summary(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    verdicts: list[dict[str, Any]],
    text_summary_rows: list[dict[str, Any]],
    n_boot: int = 1000,
) -> list[dict[str, Any]]:
    """One row per model: upstream's text-metric columns, then jury accuracy under each rule.

    ``n_judged`` counts the items the mean066 jury decided (a failed judge call is no vote; an item
    with no usable vote is outside the denominator). ``judges`` names the judges whose files were
    found ("+"-joined): with fewer than upstream's three, the jury figures are not comparable with
    the published ones. The mean066 interval is a percentile bootstrap resampling volumes
    (``*_items``: resampling questions).
    """
    text_by_model = {row["model"]: row for row in text_summary_rows}
    by_rule = decisions_by_rule(verdicts)
    accuracy = {rule: {row["model"]: row for row in accuracy_by_model(
        qa_items, predictions, decisions, n_boot=n_boot)} for rule, decisions in by_rule.items()}
    judges_of: dict[str, set[str]] = {}
    for verdict in map(Verdict.from_dict, verdicts):  # rows too (a test's, a script's)
        judges_of.setdefault(entry_of(verdict), set()).add(verdict.judge)
    rows = []
    for model in dict.fromkeys(entry_of(Prediction.from_dict(p)) for p in predictions):
        text = text_by_model.get(model, {})
        row: dict[str, Any] = {"model": model}
        for column in SUMMARY_COLUMNS[1:8]:
            row[column] = text.get(column, float("nan"))
        judges = sorted(judges_of.get(model, ()))
        row["judges"] = "+".join(judges)
        mean066 = accuracy["mean066"].get(model, {}) if judges else {}
        row["n_judged"] = mean066.get("n_judged", 0)
        for rule in ("mean066", "majority", "strict"):
            value = accuracy[rule].get(model, {}).get("accuracy") if judges else None
            row[f"jury_{rule}"] = float("nan") if value is None else value
        row["jury_mean066_ci_low"] = mean066.get("accuracy_ci_low", float("nan"))
        row["jury_mean066_ci_high"] = mean066.get("accuracy_ci_high", float("nan"))
        for end in ("low", "high"):  # item-level, for the design effect
            row[f"jury_mean066_ci_{end}_items"] = mean066.get(f"accuracy_ci_{end}_items",
                                                              float("nan"))
        row["n_empty"] = text.get("n_empty", 0)
        rows.append(row)
    return rows


def add_offline_agreement(summary_df: Any, verdicts: list[dict[str, Any]],
                          offline_verdicts: list[dict[str, Any]],
                          qa_items: list[dict[str, Any]] | None = None,
                          predictions: list[dict[str, Any]] | None = None,
                          artefact: dict[str, Any] | None = None) -> Any:
    """The offline judge against the jury (upstream's rule, mean vote >= 0.66), per model.

    For a model the judge was trained on (the artefact's ``training.items``: RadFM and Merlin)
    its shipped verdicts are in-sample, so that model gets ``offline_kappa_crossfit`` and
    ``offline_accuracy_crossfit`` instead (out-of-fold refits, folds by volume:
    judges/offline/crossfit.py) and NaN under ``offline_kappa`` / ``offline_accuracy``; other
    models get the shipped judge's figures there and NaN under the crossfit columns."""
    from ct_spatial_bench.judges.offline.judge import load_artefact
    from ct_spatial_bench.judges.offline.crossfit import crossfit_agreement, trained_models
    from ct_spatial_bench.judges.offline.evaluation import agreement_with_jury

    artefact = artefact if artefact is not None else load_artefact()
    trained = trained_models(artefact)
    shipped = agreement_with_jury(verdicts, offline_verdicts, rule="mean066")
    crossfit = (crossfit_agreement(qa_items, predictions, verdicts, artefact)
                if qa_items is not None and predictions is not None else {})
    nan = float("nan")
    out = summary_df.copy()
    for column in ("offline_kappa", "offline_accuracy"):
        out[column] = [nan if m in trained else shipped.get(m, {}).get(column, nan)
                       for m in out["model"]]
        out[f"{column}_crossfit"] = [crossfit.get(m, {}).get(f"{column}_crossfit", nan)
                                     for m in out["model"]]
    return out


def reproduction_categories(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
    verdicts: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per (category, model) mean066 jury accuracy with n, upstream's category_performance rule."""
    return accuracy_by_category(qa_items, jury_decisions(verdicts, rule="mean066"), predictions)


def validity_columns(
    summary_rows: list[dict[str, Any]], length_rows: list[dict[str, Any]],
    slot_rows: list[dict[str, Any]], subset_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Summary rows with what the jury figure measures beside it (issue 15's fixed names):
    answer_words_mean, jury_mean066_length_standardised (with _ci_low, _ci_high), slot_accuracy
    and its conflict / missing / hedge rates (all categories), jury_mean066_needs_image and
    n_needs_image (NaN and 0 where a figure could not be computed)."""
    nan = float("nan")
    length = {r["model"]: r for r in length_rows}
    slots = {r["model"]: r for r in slot_rows if r["category"] == "All"}
    needs = {r["model"]: r for r in subset_rows if r["subset"] == "needs_image"}
    out = []
    for row in summary_rows:
        model = row["model"]
        out.append({
            **row,
            "answer_words_mean": length.get(model, {}).get("answer_words_mean", nan),
            **{f"jury_mean066_length_standardised{end}":
               length.get(model, {}).get(f"accuracy_length_standardised{end}", nan)
               for end in ("", "_ci_low", "_ci_high")},
            **{column: slots.get(model, {}).get(column, nan) for column in (
                "slot_accuracy", "slot_conflict_rate", "slot_missing_rate", "slot_hedge_rate")},
            "jury_mean066_needs_image": needs.get(model, {}).get("accuracy", nan),
            "n_needs_image": needs.get(model, {}).get("n", 0),
        })
    return out


PUBLISHED_TEXT = "text_metrics_summary.csv"
COMPARISON_COLUMNS = ("model", "column", "ours", "published", "relative_difference", "judges")
PUBLISHED_JURY = "llm_jury_accuracy.json"


def published_comparison(
    summary_rows: list[dict[str, Any]], source_dir: str | os.PathLike
) -> list[dict[str, Any]]:
    """Our figure beside upstream's published one, per model and column, with the relative gap.

    Reads upstream's ``text_metrics_summary.csv`` (models named ``<model>_full``) and
    ``llm_jury_accuracy.json`` (compared with ``jury_mean066`` and, where a row has it, upstream's
    own scoring ``jury_upstream_avg3``) where they are under
    ``source_dir``; an empty list when neither is.
    """
    import json

    import pandas as pd

    published: dict[tuple[str, str], float] = {}
    text_path = find_one(source_dir, PUBLISHED_TEXT)
    if text_path is not None:
        for row in pd.read_csv(text_path).to_dict("records"):
            model = str(row["model"]).removesuffix("_full")
            for column in SUMMARY_COLUMNS[1:8]:
                if column in row:
                    published[(model, column)] = float(row[column])
    jury_path = find_one(source_dir, PUBLISHED_JURY)
    if jury_path is not None:
        for row in json.loads(Path(jury_path).read_text(encoding="utf-8")):
            for column in ("jury_mean066", "jury_upstream_avg3"):
                published[(row["model"], column)] = float(row["llm_jury_accuracy"])
    out = []
    for row in summary_rows:
        for column in (*SUMMARY_COLUMNS[1:8], "jury_mean066", "jury_upstream_avg3"):
            if (row["model"], column) not in published or column not in row:
                continue
            theirs, ours = published[(row["model"], column)], float(row[column])
            out.append({"model": row["model"], "column": column, "ours": ours,
                        "published": theirs,
                        "relative_difference": (ours - theirs) / theirs if theirs else float("nan"),
                        "judges": row.get("judges", "")})
    return out
