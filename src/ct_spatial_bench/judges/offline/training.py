"""Training the offline judge on upstream's public jury verdicts (scikit-learn, deterministic).

An item's jury label is the decision under upstream's rule (the mean of the usable votes >= 0.66:
two of three judges for RadFM, both for Merlin); an item the jury could not decide is left out.
Two ways to learn from it are searched (the grid's ``label``):

* ``jury``: one row per item, labelled with the jury's decision;
* ``judges``: one row per item and judge, labelled with that judge's vote, so the model learns
  how likely a single LLM judge is to say correct (soft labels, whatever the jury's size).

Either way the model is scored against the jury. The label, the hyperparameters and the decision
threshold are chosen by grouped cross-validation (folds by CT volume, repeated with the volumes
reshuffled) inside the training items only, never on a test side. The threshold is the centre of
the best plateau of the cross-validated kappa (a moving average over ``THRESHOLD_WINDOW`` steps
either side): the curve is flat near its top, and its single highest point moves with the folds.

The fitted ``HistGradientBoostingClassifier`` is exported to the flat arrays of
:class:`~ct_spatial_bench.judges.offline.judge.TreeEnsemble`, so judging needs numpy only.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.records import CORRECT, INCORRECT, OK, Prediction, entry_of, qa_item
from ct_spatial_bench.statistics import cohen_kappa
from ct_spatial_bench.judges.jury import jury_decisions, verdicts_by_item
from ct_spatial_bench.judges.offline.judge import ARTEFACT_FORMAT, TreeEnsemble
from ct_spatial_bench.judges.offline.features import (FEATURE_NAMES, TEXT_FEATURES, EmbeddingCache,
                                                      feature_matrix)

logger = logging.getLogger(__name__)

DEFAULT_GRID = {"label": ["jury", "judges"], "learning_rate": [0.1], "max_leaf_nodes": [8, 32],
                "max_iter": [150, 300]}
LABELS = ("jury", "judges")
THRESHOLDS = np.round(np.arange(0.20, 0.81, 0.02), 2)
THRESHOLD_WINDOW = 3
SEED = 0
# Which features the model sees: "text" leaves the SBERT similarities out (see the evaluation's
# ablation: they add no agreement across models and cost most of the judging time).
FEATURE_SETS = {"text": TEXT_FEATURES, "all": FEATURE_NAMES}
_VOTE = {CORRECT: 1.0, INCORRECT: 0.0}


def feature_columns(table: dict[str, Any], feature_set: str) -> tuple[np.ndarray, list[str]]:
    """The table's feature matrix restricted to ``feature_set``, and those features' names."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature set {feature_set!r} is not one of {sorted(FEATURE_SETS)}")
    names = list(FEATURE_SETS[feature_set])
    index = [table["feature_names"].index(n) for n in names]
    return table["X"][:, index], names


def training_table(qa_items: Sequence[Mapping[str, Any]],
                   predictions: Sequence[Mapping[str, Any]],
                   verdicts: Sequence[Mapping[str, Any]], cache: EmbeddingCache | None = None,
                   rule: str = "mean066", progress: bool = True) -> dict[str, Any]:
    """Features, jury labels and judges' votes of every prediction the jury decided, by qa_id.

    Returns ``X`` (n, features), ``y`` (1 = the jury says correct), ``votes`` (n, judges: 1, 0,
    or NaN where that judge gave no usable verdict), ``judges``, ``models``, ``groups`` (the CT
    volume, so folds never split one case), ``items`` (qa_id, model, question, answer,
    prediction, categories) and ``feature_names``.
    """
    qa_by_id = {item.qa_id: item for item in map(qa_item, qa_items)}  # rows become records
    decisions = jury_decisions(verdicts, rule=rule)
    per_judge = verdicts_by_item(verdicts)
    judges = sorted({judge for votes in per_judge.values() for judge in votes})
    rows, votes = [], []
    for pred in map(Prediction.from_dict, predictions):
        decision = decisions.get(pred.key)
        if decision not in (CORRECT, INCORRECT):
            continue
        qa = qa_by_id[pred.qa_id]
        # The table's item rows (not records: a question and its answer joined, with a label).
        rows.append({"qa_id": pred.qa_id, "model": entry_of(pred),
                     "case_id": qa.case_id, "question": qa.question,
                     "answer": qa.answer, "prediction": pred.prediction or "",
                     "categories": list(qa.categories or []),
                     "label": int(decision == CORRECT)})
        votes.append([_VOTE.get(per_judge[pred.key].get(judge), np.nan) for judge in judges])
    X = feature_matrix([(r["question"], r["answer"], r["prediction"]) for r in rows],
                       cache or EmbeddingCache(), progress=progress)
    return {"X": X, "y": np.array([r["label"] for r in rows], dtype=np.int64),
            "votes": np.array(votes, dtype=np.float64).reshape(len(rows), len(judges)),
            "judges": judges, "models": np.array([r["model"] for r in rows]),
            "groups": np.array([r["case_id"] for r in rows]), "items": rows,
            "feature_names": list(FEATURE_NAMES)}


def kappa_curve(y: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Kappa of ``p >= t`` against ``y`` for every t in THRESHOLDS (an undefined kappa is -1)."""
    scores = [cohen_kappa(y, (probabilities >= t).astype(int)) for t in THRESHOLDS]
    return np.array([-1.0 if np.isnan(s) else s for s in scores])


def plateau_threshold(curve: np.ndarray, window: int = THRESHOLD_WINDOW) -> tuple[float, float]:
    """(threshold, smoothed kappa): the centre of the best ``2 * window + 1``-point average."""
    smoothed = np.array([curve[max(0, i - window):i + window + 1].mean()
                         for i in range(len(curve))])
    i = int(np.argmax(smoothed))  # first of equals: the thresholds are in a fixed order
    return float(THRESHOLDS[i]), float(smoothed[i])


def best_threshold(y: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """(threshold, smoothed kappa) of p(correct) on these labels (see :func:`plateau_threshold`)."""
    return plateau_threshold(kappa_curve(y, probabilities))


def _classifier(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(early_stopping=False, random_state=SEED,
                                          min_samples_leaf=20, l2_regularization=1.0, **params)


def fit_classifier(X: np.ndarray, y: np.ndarray, votes: np.ndarray | None,
                   params: dict[str, Any]) -> Any:
    """A classifier fitted on the jury's labels, or (``label: judges``) on every judge's vote."""
    params = dict(params)
    label = params.pop("label", "jury")
    if label not in LABELS:
        raise ValueError(f"label {label!r} is not one of {LABELS}")
    if label == "jury":
        return _classifier(params).fit(X, y)
    if votes is None or votes.size == 0:
        raise ValueError("label 'judges' needs the judges' votes; the table has none")
    voted = ~np.isnan(votes)
    rows = np.nonzero(voted.T)[1]  # judge by judge, each judge's items in table order
    return _classifier(params).fit(X[rows], votes.T[voted.T].astype(int))


def _reshuffled(groups: np.ndarray, repeat: int) -> np.ndarray:
    """The same groups under other names, so that GroupKFold deals them into other folds."""
    if repeat == 0:
        return groups
    names, codes = np.unique(groups, return_inverse=True)
    return np.random.default_rng(repeat).permutation(len(names))[codes]


def out_of_fold(X: np.ndarray, y: np.ndarray, groups: np.ndarray, params: dict[str, Any],
                folds: int = 4, votes: np.ndarray | None = None, repeat: int = 0) -> np.ndarray:
    """Out-of-fold p(correct), folds grouped by CT volume (``repeat`` > 0: reshuffled folds)."""
    from sklearn.model_selection import GroupKFold

    probabilities = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(X, y, _reshuffled(groups, repeat)):
        model = fit_classifier(X[train], y[train], None if votes is None else votes[train],
                               params)
        probabilities[test] = model.predict_proba(X[test])[:, 1]
    return probabilities


def select_by_cross_validation(X: np.ndarray, y: np.ndarray, groups: np.ndarray,
                               grid: dict[str, list] | None = None, folds: int = 4,
                               votes: np.ndarray | None = None,
                               repeats: int = 2) -> dict[str, Any]:
    """The grid point and threshold with the best cross-validated kappa against the jury.

    Each point's kappa curve is averaged over ``repeats`` reshufflings of the grouped folds,
    then its plateau is taken (:func:`plateau_threshold`). Returns the best point's params,
    threshold and ``cv_kappa`` (smoothed), and every point's scores under ``grid``.
    """
    grid = grid or DEFAULT_GRID
    names = sorted(grid)
    scores = []
    for values in itertools.product(*(grid[n] for n in names)):
        params = dict(zip(names, values))
        curve = np.mean([kappa_curve(y, out_of_fold(X, y, groups, params, folds, votes, r))
                         for r in range(repeats)], axis=0)
        threshold, kappa = plateau_threshold(curve)
        scores.append({"params": params, "threshold": threshold, "cv_kappa": round(kappa, 4),
                       "cv_kappa_peak": round(float(curve.max()), 4)})
        logger.info("offline judge CV %s: kappa %.4f at %.2f", params, kappa, threshold)
    best = max(scores, key=lambda s: s["cv_kappa"])  # first of equals: grid order is fixed
    return {**best, "grid": scores, "folds": folds, "repeats": repeats}


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
                      grid: dict[str, list] | None = None, folds: int = 4,
                      votes: np.ndarray | None = None, repeats: int = 2
                      ) -> tuple[TreeEnsemble, float, dict[str, Any]]:
    """Choose by cross-validation, refit on every item given, export: (trees, threshold, CV)."""
    selection = select_by_cross_validation(X, y, groups, grid, folds, votes, repeats)
    classifier = fit_classifier(X, y, votes, selection["params"])
    ensemble = export_trees(classifier)
    exported = ensemble.predict_proba(X)
    if not np.allclose(exported, classifier.predict_proba(X)[:, 1], atol=1e-6):
        raise AssertionError("exported trees disagree with scikit-learn's predictions")
    return ensemble, selection["threshold"], selection


def build_artefact(ensemble: TreeEnsemble, threshold: float, selection: dict[str, Any],
                   training: dict[str, Any], features: Sequence[str],
                   evaluation: dict[str, Any] | None = None,
                   version: str = "offline-gbt-v2") -> dict[str, Any]:
    """The JSON the judge loads: features, trees, threshold, and how they were obtained."""
    import sklearn

    return {"format": ARTEFACT_FORMAT, "version": version, "features": list(features),
            "threshold": threshold, "trees": ensemble.to_dict(),
            "training": {**training, "selection": selection,
                         "scikit_learn": sklearn.__version__, "seed": SEED},
            "evaluation": evaluation or {}}


def answer_length_domain(predictions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The training answers' length in words: the range the judge has seen (1st-99th percentile,
    ``low``/``high``), min, max, and the mean per model. Verdicts on answers outside it are
    extrapolation (a judge fitted on 2-15-word answers reading 100-word ones)."""
    words = {}
    for pred in map(Prediction.from_dict, predictions):  # rows too (a test's, a script's)
        words.setdefault(entry_of(pred), []).append(len((pred.prediction or "").split()))
    every = np.concatenate([np.asarray(w) for w in words.values()])
    low, high = np.percentile(every, [1, 99])
    return {"low": float(low), "high": float(high), "min": int(every.min()),
            "max": int(every.max()), "percentiles": [1, 99],
            "mean_per_model": {m: round(float(np.mean(w)), 2) for m, w in sorted(words.items())}}


def answers_outside_domain(
    predictions: Sequence[Mapping[str, Any]], domain: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Per model: its share of ok answers outside the offline judge's training length range
    (``training.answer_words`` of the shipped artefact unless ``domain`` is given) and
    ``flagged`` where more than 10% are. Empty when the artefact records no range."""
    from ct_spatial_bench.judges.offline.judge import load_artefact

    domain = domain or load_artefact()["training"].get("answer_words")
    if not domain:
        return []
    words: dict[str, list[int]] = {}
    for pred in map(Prediction.from_dict, predictions):  # rows too (a test's, a script's)
        if pred.status == OK:
            words.setdefault(entry_of(pred), []).append(len((pred.prediction or "").split()))
    rows = []
    for model, counts in words.items():
        outside = float(np.mean([not domain["low"] <= w <= domain["high"] for w in counts]))
        rows.append({"model": model, "words_mean": float(np.mean(counts)),
                     "train_words_low": domain["low"], "train_words_high": domain["high"],
                     "share_outside": outside, "flagged": outside > 0.10})
    return rows
