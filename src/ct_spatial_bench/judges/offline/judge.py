"""The offline judge: a small learned model over rule and SBERT features, trained on the jury.

No network, no hub, no keys. It reads a JSON artefact (``offline_model.json`` beside this file,
well under 2 MB) holding gradient-boosted trees fitted by scikit-learn on upstream
CT-SpatialVQA's public verdicts (RadFM: three LLM judges, Merlin: two; the target is the jury's
decision, mean vote >= 0.66, learnt from that decision or from every judge's vote, whichever
grouped cross-validation prefers), and runs them with numpy alone: scikit-learn is needed to
retrain, not to judge. Retrain with ``kedro run --pipelines train_offline_judge`` (see
judges/offline/training.py); the artefact's ``training`` records how it was chosen.

The artefact lists the features its trees read. The shipped one reads the text features only:
in the training pipeline's ablation the SBERT similarities moved the cross-model agreement by
less than a hundredth either way and cost most of the time, so SBERT is loaded only for an
artefact trained with them.
``judge_batch`` judges many items at once (SBERT, when used, encodes each distinct text once in
large batches); the judge declares itself ``batched``, so the engine calls it that way. ``judge`` is
the one-item call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ct_spatial_bench.records import CORRECT, INCORRECT
from ct_spatial_bench.judges.base import Judge, Judgement
from ct_spatial_bench.judges.offline.features import (FEATURE_NAMES, EmbeddingCache, clean_prediction, feature_matrix)

DEFAULT_MODEL_PATH = Path(__file__).with_name("model.json")
ARTEFACT_FORMAT = "ct_spatial_bench.offline_judge/1"


class TreeEnsemble:
    """Additive binary trees in flat arrays: p(correct) = sigmoid(baseline + sum of leaf values).

    ``feature[i] < 0`` marks a leaf; at an inner node a row goes left when
    ``x[feature] <= threshold`` (scikit-learn's rule). All trees step down together, one
    vectorised step per level.
    """

    def __init__(self, baseline: float, roots: Sequence[int], feature: Sequence[int],
                 threshold: Sequence[float], left: Sequence[int], right: Sequence[int],
                 value: Sequence[float]):
        self.baseline = float(baseline)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "roots": self.roots.tolist(),
                "feature": self.feature.tolist(), "threshold": self.threshold.tolist(),
                "left": self.left.tolist(), "right": self.right.tolist(),
                "value": self.value.tolist()}

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if len(self.roots) == 0 or len(X) == 0:
            return np.full(len(X), self.baseline)
        nodes = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        rows = np.arange(len(X))[:, None]
        while True:
            inner = self.feature[nodes] >= 0
            if not inner.any():
                break
            feature = np.where(inner, self.feature[nodes], 0)
            go_left = X[rows, feature] <= self.threshold[nodes]
            nodes = np.where(inner, np.where(go_left, self.left[nodes], self.right[nodes]), nodes)
        return self.baseline + self.value[nodes].sum(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision_function(X)))


def load_artefact(path: str | Path = DEFAULT_MODEL_PATH) -> dict[str, Any]:
    """The trained artefact, checked against this code's feature list."""
    path = Path(path)
    try:
        artefact = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"offline judge model {path} is missing; retrain it with "
                                "`kedro run --pipelines train_offline_judge`") from None
    if artefact.get("format") != ARTEFACT_FORMAT:
        raise ValueError(f"{path}: format {artefact.get('format')!r}, expected {ARTEFACT_FORMAT}")
    unknown = sorted(set(artefact["features"]) - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(f"{path}: trained on features this code does not compute ({unknown}); "
                         "retrain it with `kedro run --pipelines train_offline_judge`")
    if max(artefact["trees"]["feature"], default=-1) >= len(artefact["features"]):
        raise ValueError(f"{path}: its trees read more features than it lists; retrain it with "
                         "`kedro run --pipelines train_offline_judge`")
    return artefact


class OfflineJudge(Judge):
    """``name`` "offline"; ``model`` names the artefact version, ``prompt_version`` its hash.

    Batched: its features and trees run on arrays, so many items at once cost little more than one.
    """

    name = "offline"
    batched = True

    def __init__(self, model_path: str | Path | None = None,
                 encode: Callable[[list[str]], np.ndarray] | None = None,
                 batch_size: int = 128, threshold: float | None = None):
        path = Path(model_path) if model_path else DEFAULT_MODEL_PATH
        self.artefact = load_artefact(path)
        self.ensemble = TreeEnsemble(**self.artefact["trees"])
        self.features = tuple(self.artefact["features"])  # SBERT runs only if listed here
        self.threshold = float(threshold if threshold is not None else self.artefact["threshold"])
        self.model = self.artefact.get("version", "offline-gbt")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.prompt_version = f"{self.model}:{digest}"
        self.embeddings = EmbeddingCache(encode, batch_size=batch_size)

    def probabilities(self, items: Sequence[tuple[str, str, str]],
                      progress: bool = False) -> np.ndarray:
        """p(the jury says correct) for (question, answer, prediction) items."""
        items = [(q or "", a or "", p or "") for q, a, p in items]
        X = feature_matrix(items, self.embeddings, progress, names=self.features)
        return self.ensemble.predict_proba(X)

    def judge_batch(self, items: Sequence[tuple[str, str, str]],
                    progress: bool = False) -> list[Judgement]:
        probabilities = self.probabilities(items, progress)
        out = []
        for (_, _, prediction), p in zip(items, probabilities):
            if not clean_prediction(prediction):
                out.append(Judgement(verdict=INCORRECT, reason="empty prediction",
                                     raw=json.dumps({"p_correct": 0.0})))
                continue
            verdict = CORRECT if p >= self.threshold else INCORRECT
            out.append(Judgement(
                verdict=verdict,
                reason=f"p(correct) {p:.2f} {'>=' if verdict == CORRECT else '<'} "
                       f"{self.threshold:.2f}",
                raw=json.dumps({"p_correct": round(float(p), 6)})))
        return out

    def judge(self, question: str, answer: str, prediction: str) -> Judgement:
        return self.judge_batch([(question, answer, prediction)])[0]
