"""Training the offline judge on upstream's public jury verdicts (scikit-learn, deterministic).

The label of an item is the jury's decision under upstream's rule (the mean of the usable votes
>= 0.66: two of three judges for RadFM, both for Merlin); an item the jury could not decide is
left out. Hyperparameters and the decision threshold are chosen by grouped cross-validation
(folds by CT volume) inside the training items only, never on a test side.

The fitted ``HistGradientBoostingClassifier`` is exported to the flat arrays of
:class:`~ct_spatial_bench.judges.offline.TreeEnsemble`, so judging needs numpy only.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import CORRECT
from .jury import cohen_kappa, jury_decisions
from .offline import ARTEFACT_FORMAT, TreeEnsemble
from .offline_features import FEATURE_NAMES, TEXT_FEATURES, EmbeddingCache, feature_matrix

logger = logging.getLogger(__name__)

DEFAULT_GRID = {"learning_rate": [0.1], "max_leaf_nodes": [8, 16],
                "max_iter": [150, 300]}
THRESHOLDS = np.round(np.arange(0.20, 0.81, 0.02), 2)
SEED = 0
# Which features the model sees: "text" leaves the SBERT similarities out (see the evaluation's
# ablation: they add no agreement across models and cost most of the judging time).
FEATURE_SETS = {"text": TEXT_FEATURES, "all": FEATURE_NAMES}


def feature_columns(table: dict[str, Any], feature_set: str) -> tuple[np.ndarray, list[str]]:
    """The table's feature matrix restricted to ``feature_set``, and those features' names."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature set {feature_set!r} is not one of {sorted(FEATURE_SETS)}")
    names = list(FEATURE_SETS[feature_set])
    index = [table["feature_names"].index(n) for n in names]
    return table["X"][:, index], names


def training_table(qa_items: Sequence[dict[str, Any]], predictions: Sequence[dict[str, Any]],
                   verdicts: Sequence[dict[str, Any]], cache: EmbeddingCache | None = None,
                   rule: str = "mean066", progress: bool = True) -> dict[str, Any]:
    """Features and jury labels of every prediction the jury decided, joined by qa_id.

    Returns ``X`` (n, features), ``y`` (1 = the jury says correct), ``models``, ``groups`` (the
    CT volume, so folds never split one case), ``items`` (qa_id, model, question, answer,
    prediction, categories) and ``feature_names``.
    """
    qa_by_id = {item["qa_id"]: item for item in qa_items}
    decisions = jury_decisions(verdicts, rule=rule)
    rows = []
    for pred in predictions:
        decision = decisions.get((pred["model"], pred["qa_id"]))
        if decision not in (CORRECT, "incorrect"):
            continue
        qa = qa_by_id[pred["qa_id"]]
        rows.append({"qa_id": pred["qa_id"], "model": pred["model"],
                     "case_id": qa.get("case_id", ""), "question": qa["question"],
                     "answer": qa["answer"], "prediction": pred.get("prediction") or "",
                     "categories": list(qa.get("categories") or []),
                     "label": int(decision == CORRECT)})
    X = feature_matrix([(r["question"], r["answer"], r["prediction"]) for r in rows],
                       cache or EmbeddingCache(), progress=progress)
    return {"X": X, "y": np.array([r["label"] for r in rows], dtype=np.int64),
            "models": np.array([r["model"] for r in rows]),
            "groups": np.array([r["case_id"] for r in rows]), "items": rows,
            "feature_names": list(FEATURE_NAMES)}


def best_threshold(y: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """(threshold, kappa): the cut of p(correct) with the highest kappa on these labels."""
    scores = [cohen_kappa(y, (probabilities >= t).astype(int)) for t in THRESHOLDS]
    scores = [-1.0 if np.isnan(s) else s for s in scores]
    i = int(np.argmax(scores))
    return float(THRESHOLDS[i]), float(scores[i])


def _classifier(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(early_stopping=False, random_state=SEED,
                                          min_samples_leaf=20, l2_regularization=1.0, **params)


def out_of_fold(X: np.ndarray, y: np.ndarray, groups: np.ndarray, params: dict[str, Any],
                folds: int = 4) -> np.ndarray:
    """Out-of-fold p(correct), folds grouped by CT volume."""
    from sklearn.model_selection import GroupKFold

    probabilities = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(X, y, groups):
        model = _classifier(params).fit(X[train], y[train])
        probabilities[test] = model.predict_proba(X[test])[:, 1]
    return probabilities


def select_by_cross_validation(X: np.ndarray, y: np.ndarray, groups: np.ndarray,
                               grid: dict[str, list] | None = None,
                               folds: int = 4) -> dict[str, Any]:
    """The grid point and threshold with the best out-of-fold kappa, and every point's score."""
    grid = grid or DEFAULT_GRID
    names = sorted(grid)
    scores = []
    for values in itertools.product(*(grid[n] for n in names)):
        params = dict(zip(names, values))
        threshold, kappa = best_threshold(y, out_of_fold(X, y, groups, params, folds))
        scores.append({"params": params, "threshold": threshold, "cv_kappa": round(kappa, 4)})
        logger.info("offline judge CV %s: kappa %.4f at %.2f", params, kappa, threshold)
    best = max(scores, key=lambda s: s["cv_kappa"])  # first of equals: grid order is fixed
    return {**best, "grid": scores, "folds": folds}


def export_trees(classifier: Any) -> TreeEnsemble:
    """A fitted binary ``HistGradientBoostingClassifier`` as a :class:`TreeEnsemble`."""
    roots, feature, threshold, left, right, value = [], [], [], [], [], []
    for (predictor,) in classifier._predictors:  # one tree per iteration for two classes
        nodes, offset = predictor.nodes, len(feature)
        roots.append(offset)
        for node in nodes:
            leaf = bool(node["is_leaf"])
            feature.append(-1 if leaf else int(node["feature_idx"]))
            threshold.append(0.0 if leaf else float(node["num_threshold"]))
            left.append(-1 if leaf else offset + int(node["left"]))
            right.append(-1 if leaf else offset + int(node["right"]))
            value.append(round(float(node["value"]), 8) if leaf else 0.0)
    baseline = float(np.ravel(classifier._baseline_prediction)[0])
    return TreeEnsemble(baseline, roots, feature, threshold, left, right, value)


def fit_offline_judge(X: np.ndarray, y: np.ndarray, groups: np.ndarray,
                      grid: dict[str, list] | None = None,
                      folds: int = 4) -> tuple[TreeEnsemble, float, dict[str, Any]]:
    """Choose by cross-validation, refit on every item given, export: (trees, threshold, CV)."""
    selection = select_by_cross_validation(X, y, groups, grid, folds)
    classifier = _classifier(selection["params"]).fit(X, y)
    ensemble = export_trees(classifier)
    exported = ensemble.predict_proba(X)
    if not np.allclose(exported, classifier.predict_proba(X)[:, 1], atol=1e-6):
        raise AssertionError("exported trees disagree with scikit-learn's predictions")
    return ensemble, selection["threshold"], selection


def build_artefact(ensemble: TreeEnsemble, threshold: float, selection: dict[str, Any],
                   training: dict[str, Any], features: Sequence[str],
                   evaluation: dict[str, Any] | None = None,
                   version: str = "offline-gbt-v1") -> dict[str, Any]:
    """The JSON the judge loads: features, trees, threshold, and how they were obtained."""
    import sklearn

    return {"format": ARTEFACT_FORMAT, "version": version, "features": list(features),
            "threshold": threshold, "trees": ensemble.to_dict(),
            "training": {**training, "selection": selection,
                         "scikit_learn": sklearn.__version__, "seed": SEED},
            "evaluation": evaluation or {}}
