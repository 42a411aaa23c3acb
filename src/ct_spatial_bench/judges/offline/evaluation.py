"""Honest evaluation of the offline judge: train on one model's items, test on another's.

For every ordered pair of models (RadFM -> Merlin and the reverse) the judge is fitted on the
training model's items alone (hyperparameters and threshold chosen by cross-validation there),
then scored on the test model's items against the jury (mean vote >= 0.66): Cohen's kappa,
accuracy, the confusion matrix, the figures per spatial category, and the commonest kinds of
disagreement with examples. Baselines on the same split: exact match, an SBERT-cosine threshold
(chosen on the training side) and the rule judge.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT, Verdict, entry_of
from ct_spatial_bench.statistics import cohen_kappa
from ct_spatial_bench.judges.offline.features import FEATURE_NAMES
from ct_spatial_bench.metrics.normalise import clean_prediction
from ct_spatial_bench.judges.offline.training import THRESHOLDS, feature_columns, fit_offline_judge

EXAMPLES_PER_KIND = 3


def agreement(y: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Kappa, accuracy and the confusion matrix (rows: jury, columns: judge)."""
    y, predicted = np.asarray(y, dtype=int), np.asarray(predicted, dtype=int)
    confusion = {f"jury_{a}_judge_{b}": int(((y == (a == CORRECT)) &
                                             (predicted == (b == CORRECT))).sum())
                 for a in (CORRECT, INCORRECT) for b in (CORRECT, INCORRECT)}
    return {"n": int(len(y)), "kappa": round(float(cohen_kappa(y, predicted)), 4),
            "accuracy": round(float((y == predicted).mean()), 4) if len(y) else float("nan"),
            "judge_correct_rate": round(float(predicted.mean()), 4) if len(y) else float("nan"),
            "jury_correct_rate": round(float(y.mean()), 4) if len(y) else float("nan"),
            "confusion": confusion}


def baselines(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
              y_test: np.ndarray, names: Sequence[str] = FEATURE_NAMES) -> dict[str, Any]:
    """Exact match, SBERT cosine >= a threshold fitted on the training side, the rule judge."""
    names = list(names)

    def column(X: np.ndarray, name: str) -> np.ndarray:
        return X[:, names.index(name)]

    out = {"exact_match": agreement(y_test, column(X_test, "exact_match") > 0.5),
           "rule": agreement(y_test, column(X_test, "rule_correct") > 0.5)}
    if "sbert_answer_prediction" in names:
        cut, _ = _sbert_cut(y_train, column(X_train, "sbert_answer_prediction"))
        out["sbert_threshold"] = {**agreement(
            y_test, column(X_test, "sbert_answer_prediction") >= cut), "threshold": cut}
    return out


def _sbert_cut(y: np.ndarray, cosine: np.ndarray) -> tuple[float, float]:
    """The cosine cut with the best kappa on the training side (cosines span wider than p)."""
    cuts = np.round(np.arange(0.30, 0.96, 0.01), 2)
    scores = [cohen_kappa(y, (cosine >= c).astype(int)) for c in cuts]
    scores = [-1.0 if np.isnan(s) else s for s in scores]
    i = int(np.argmax(scores))
    return float(cuts[i]), float(scores[i])


def per_category(items: Sequence[dict[str, Any]], y: np.ndarray,
                 predicted: np.ndarray) -> list[dict[str, Any]]:
    """Kappa and accuracy per spatial category (an item counts in each of its categories)."""
    names = sorted({c for item in items for c in item.get("categories", [])})
    rows = []
    for name in names:
        mask = np.array([name in item.get("categories", []) for item in items])
        row = agreement(y[mask], predicted[mask])
        row.pop("confusion")
        rows.append({"category": name, **row})
    return rows


def _kind(item: dict[str, Any], predicted: int) -> str:
    direction = ("judge correct, jury incorrect" if predicted
                 else "judge incorrect, jury correct")
    words = re.findall(r"[a-z]+", item["question"].lower())
    first = words[0] if words else ""
    qtype = first if first in ("where", "which", "what", "how") else (
        "yes/no" if first in ("is", "are", "was", "were", "does", "do", "did", "has", "have",
                              "can") else "other")
    return f"{direction}; {qtype} question"


def disagreements(items: Sequence[dict[str, Any]], y: np.ndarray, predicted: np.ndarray,
                  probabilities: np.ndarray, kinds: int = 6) -> list[dict[str, Any]]:
    """The commonest kinds of disagreement (direction x question type), with the most confident
    examples of each."""
    wrong = np.flatnonzero(np.asarray(y) != np.asarray(predicted))
    by_kind: dict[str, list[int]] = {}
    for i in wrong:
        by_kind.setdefault(_kind(items[i], int(predicted[i])), []).append(int(i))
    out = []
    for kind, count in Counter({k: len(v) for k, v in by_kind.items()}).most_common(kinds):
        ranked = sorted(by_kind[kind], key=lambda i: -abs(probabilities[i] - 0.5))
        out.append({"kind": kind, "count": count, "examples": [
            {"qa_id": items[i]["qa_id"], "question": items[i]["question"],
             "answer": items[i]["answer"],
             "prediction": clean_prediction(items[i]["prediction"])[:300],
             "p_correct": round(float(probabilities[i]), 3), "jury": int(y[i])}
            for i in ranked[:EXAMPLES_PER_KIND]]})
    return out


def _fit_and_score(X: np.ndarray, table: dict[str, Any], train: np.ndarray, test: np.ndarray,
                   grid: dict[str, list] | None, folds: int, repeats: int
                   ) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Fit on ``train`` (CV inside it), return p(correct) on ``test``, threshold, selection."""
    votes = table.get("votes")
    ensemble, threshold, selection = fit_offline_judge(
        X[train], table["y"][train], table["groups"][train], grid, folds,
        None if votes is None else votes[train], repeats)
    return ensemble.predict_proba(X[test]), threshold, selection


def cross_model_evaluation(table: dict[str, Any], grid: dict[str, list] | None = None,
                           folds: int = 4, feature_set: str = "text",
                           ablation: str | None = "all", repeats: int = 2) -> dict[str, Any]:
    """Every ordered (train model, test model) pair: the offline judge and the baselines.

    ``feature_set`` is the judge's ("text" or "all"); ``ablation`` names another set, refitted
    with the grid point chosen for the judge (its threshold again by CV on the training side),
    so the report shows what the features left out would have given.
    """
    y, models = table["y"], table["models"]
    X, _ = feature_columns(table, feature_set)
    names = sorted(set(models.tolist()))
    directions = []
    for train_model, test_model in ((a, b) for a in names for b in names if a != b):
        train, test = models == train_model, models == test_model
        probabilities, threshold, selection = _fit_and_score(X, table, train, test, grid, folds,
                                                             repeats)
        predicted = (probabilities >= threshold).astype(int)
        test_items = [item for item, keep in zip(table["items"], test) if keep]
        direction = {
            "train": train_model, "test": test_model, "threshold": threshold,
            "cv_kappa": selection["cv_kappa"], "params": selection["params"],
            "cv_grid": selection["grid"],
            "offline": agreement(y[test], predicted),
            "baselines": baselines(table["X"][train], y[train], table["X"][test], y[test],
                                   table["feature_names"]),
            "per_category": per_category(test_items, y[test], predicted),
            "disagreements": disagreements(test_items, y[test], predicted, probabilities),
        }
        if ablation and ablation != feature_set:
            X_other, _ = feature_columns(table, ablation)
            chosen = {k: [v] for k, v in selection["params"].items()}
            p_other, t_other, other = _fit_and_score(X_other, table, train, test, chosen,
                                                     folds, repeats)
            direction["ablation"] = {"features": ablation, "cv_kappa": other["cv_kappa"],
                                     **agreement(y[test], (p_other >= t_other).astype(int))}
            direction["ablation"].pop("confusion")
        directions.append(direction)
    return {"label": "jury mean vote >= 0.66 (upstream's rule)", "features": feature_set,
            "directions": directions, "folds": folds, "repeats": repeats,
            "thresholds_searched": [float(THRESHOLDS[0]), float(THRESHOLDS[-1])]}


def _kappa(result: dict[str, Any] | None) -> str:
    if not result:
        return "-"
    label = f" ({result['features']})" if "features" in result else ""
    cv = f", CV {result['cv_kappa']:.3f}" if "cv_kappa" in result else ""
    return f"{result['kappa']:.3f}{label}{cv}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _grid_lines(direction: dict[str, Any]) -> list[str]:
    """The CV table of every grid point searched on the training side."""
    grid = direction.get("cv_grid") or []
    if not grid:
        return []
    keys = sorted({k for point in grid for k in point["params"]})
    lines = ["", f"Cross-validation on {direction['train']} (the choice is the highest smoothed "
             "kappa):", "", "| " + " | ".join(keys) + " | threshold | CV kappa (smoothed) | "
             "CV kappa (peak) |", "|" + "---|" * (len(keys) + 3)]
    for point in grid:
        lines.append("| " + " | ".join(str(point["params"].get(k, "")) for k in keys)
                     + f" | {point['threshold']:.2f} | {point['cv_kappa']:.4f} | "
                     f"{point.get('cv_kappa_peak', float('nan')):.4f} |")
    return lines


def evaluation_markdown(evaluation: dict[str, Any], seconds: dict[str, float] | None = None
                        ) -> str:
    """The report a reader opens: headline kappas, baselines, categories, confusions, examples."""
    lines = ["# Offline judge: agreement with the LLM jury on models it never saw", "",
             f"Target: {evaluation['label']}. Fitted on one model's items, tested on the "
             "other's. Everything chosen is chosen by grouped cross-validation (folds by CT "
             f"volume, {evaluation.get('folds', 4)} folds x {evaluation.get('repeats', 1)} "
             "reshufflings) inside the training model's items, scored against its jury: the "
             "training label (`jury`: the jury's decision; `judges`: every judge's vote as a "
             "row of its own), the hyperparameters, and the threshold (centre of the best "
             "plateau of the CV kappa). The test side is only scored.", "",
             f"The judge's features: {evaluation.get('features', 'text')} (set in "
             "parameters_offline_judge.yml, not chosen by CV); the ablation column refits the "
             "chosen grid point on the other feature set (its threshold again by CV on the "
             "training side) and gives its CV kappa there, so the reader sees whether CV would "
             "have chosen it.", "",
             "| train -> test | n | offline kappa | offline accuracy | its CV kappa on train | "
             "ablation kappa | rule kappa | SBERT-threshold kappa | exact-match kappa |",
             "|---|---|---|---|---|---|---|---|---|"]
    for d in evaluation["directions"]:
        b = d["baselines"]
        lines.append(f"| {d['train']} -> {d['test']} | {d['offline']['n']} | "
                     f"**{d['offline']['kappa']:.3f}** | {_pct(d['offline']['accuracy'])} | "
                     f"{d['cv_kappa']:.3f} | {_kappa(d.get('ablation'))} | "
                     f"{b['rule']['kappa']:.3f} | "
                     f"{_kappa(b.get('sbert_threshold'))} | {b['exact_match']['kappa']:.3f} |")
    for d in evaluation["directions"]:
        c = d["offline"]["confusion"]
        lines += ["", f"## {d['train']} -> {d['test']}", "",
                  f"Chosen by CV on {d['train']}: {d['params']}, threshold {d['threshold']:.2f} "
                  f"(CV kappa {d['cv_kappa']:.3f}). Jury says correct for "
                  f"{_pct(d['offline']['jury_correct_rate'])}, the judge for "
                  f"{_pct(d['offline']['judge_correct_rate'])}.", "",
                  "| | judge correct | judge incorrect |", "|---|---|---|",
                  f"| jury correct | {c['jury_correct_judge_correct']} | "
                  f"{c['jury_correct_judge_incorrect']} |",
                  f"| jury incorrect | {c['jury_incorrect_judge_correct']} | "
                  f"{c['jury_incorrect_judge_incorrect']} |", "",
                  "| category | n | kappa | accuracy |", "|---|---|---|---|"]
        lines += [f"| {r['category']} | {r['n']} | {r['kappa']:.3f} | {_pct(r['accuracy'])} |"
                  for r in d["per_category"]]
        lines += _grid_lines(d)
        lines += ["", "Commonest disagreements:", ""]
        for kind in d["disagreements"]:
            lines.append(f"- **{kind['kind']}**: {kind['count']}")
            lines += [f"    - Q: {e['question']} | A: {e['answer']} | P: {e['prediction']} "
                      f"(p={e['p_correct']:.2f})" for e in kind["examples"]]
    if seconds:
        lines += ["", "## Speed", ""] + [f"- {k}: {v:.1f} s" for k, v in seconds.items()]
    return "\n".join(lines) + "\n"


def agreement_with_jury(jury_verdicts: Sequence[Mapping[str, Any]],
                        judge_verdicts: Sequence[Mapping[str, Any]],
                        rule: str = "mean066") -> dict[str, dict[str, Any]]:
    """Per model: one judge's kappa and agreement share against the jury, matched by qa_id.

    Items the jury or the judge could not decide (``failed``) are left out and counted out of
    ``offline_n``.
    """
    from ct_spatial_bench.judges.jury import jury_decisions

    decisions = jury_decisions(jury_verdicts, rule=rule)
    pairs: dict[str, list[tuple[int, int]]] = {}
    for i, row in enumerate(judge_verdicts, start=1):
        verdict = Verdict.from_dict(row, where=f"judge verdict {i}")  # a row too (a test's)
        jury = decisions.get(verdict.key, FAILED)
        if FAILED in (jury, verdict.verdict):
            continue
        pairs.setdefault(entry_of(verdict), []).append(
            (int(jury == CORRECT), int(verdict.verdict == CORRECT)))
    out = {}
    for model, model_pairs in pairs.items():
        jury, judge = (np.array(column) for column in zip(*model_pairs))
        out[model] = {"offline_kappa": float(cohen_kappa(jury, judge)),
                      "offline_accuracy": float((jury == judge).mean()),
                      "offline_n": len(model_pairs)}
    return out
