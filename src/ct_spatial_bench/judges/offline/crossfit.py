"""The offline judge's agreement with the jury, out of sample where it was trained on that jury.

The shipped judge was fitted on upstream's RadFM and Merlin verdicts, so its kappa against those
verdicts is in-sample and flatters it. For every model the artefact lists among its training
items, the judge is refitted here with the artefact's own choices (features, hyperparameters,
label, threshold) in folds grouped by CT volume, and each item is judged by the fit that did not
see its volume: ``offline_kappa_crossfit`` and ``offline_accuracy_crossfit`` are those
out-of-fold verdicts against the jury. Models it was not trained on keep the shipped judge's
figures (``offline_kappa``, ``offline_accuracy``), which are out of sample already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.statistics import cohen_kappa
from ct_spatial_bench.judges.jury import jury_decisions, verdicts_by_item
from ct_spatial_bench.judges.offline.features import feature_matrix
from ct_spatial_bench.metrics.normalise import clean_prediction
from ct_spatial_bench.judges.offline.training import out_of_fold
from ct_spatial_bench.records import CORRECT, INCORRECT, Prediction, entry_of, qa_item

_VOTE = {CORRECT: 1.0, INCORRECT: 0.0}


def trained_models(artefact: dict[str, Any]) -> set[str]:
    """The models whose verdicts the artefact was fitted on."""
    return set((artefact.get("training") or {}).get("items") or {})


def crossfit_agreement(qa_items: Sequence[Mapping[str, Any]],
                       predictions: Sequence[Mapping[str, Any]],
                       verdicts: Sequence[Mapping[str, Any]], artefact: dict[str, Any],
                       rule: str = "mean066", folds: int = 4) -> dict[str, dict[str, Any]]:
    """Per trained-on model: kappa and accuracy of out-of-fold verdicts against the jury, and n.

    One refit per fold on every trained-on model's items together (as the artefact was fitted),
    folds by volume; an empty prediction is incorrect, as the shipped judge rules.
    """
    models = trained_models(artefact)
    qa_by_id = {qa.qa_id: qa for qa in map(qa_item, qa_items)}  # rows become records
    decisions = jury_decisions(verdicts, rule=rule)
    per_judge = verdicts_by_item(verdicts)
    judges = sorted({j for votes in per_judge.values() for j in votes})
    rows = [p for p in map(Prediction.from_dict, predictions) if entry_of(p) in models
            and decisions.get(p.key) in (CORRECT, INCORRECT)]
    if not rows:
        return {}
    X = feature_matrix([(qa_by_id[p.qa_id].question, qa_by_id[p.qa_id].answer,
                         p.prediction or "") for p in rows],
                       names=artefact["features"])
    y = np.array([int(decisions[p.key] == CORRECT) for p in rows])
    votes = np.array([[_VOTE.get(per_judge[p.key].get(j), np.nan)
                       for j in judges] for p in rows], dtype=np.float64)
    groups = np.array([str(qa_by_id[p.qa_id].case_id or p.qa_id) for p in rows])
    selection = artefact["training"]["selection"]
    params = {**selection["params"]}
    probabilities = out_of_fold(X, y, groups, params, folds=folds, votes=votes)
    judged = (probabilities >= float(artefact["threshold"])).astype(int)
    judged[[not clean_prediction(p.prediction) for p in rows]] = 0
    out = {}
    for model in sorted({entry_of(p) for p in rows}):
        mine = np.array([entry_of(p) == model for p in rows])
        out[model] = {"offline_kappa_crossfit": cohen_kappa(y[mine], judged[mine]),
                      "offline_accuracy_crossfit": float((y[mine] == judged[mine]).mean()),
                      "offline_n_crossfit": int(mine.sum()), "folds": folds}
    return out
