import math
import os
import random
from collections import defaultdict

import pytest

from ct_spatial_bench.metrics.text import (
    corpus_bleu,
    exact_match,
    normalise_answer,
    per_item_text_metrics,
    rouge_f,
    sbert_cosines,
    text_metrics_summary,
    token_f1,
)
from ct_spatial_bench.records import RecordError, iter_jsonl, load_qa_items
from support.project import UPSTREAM_REFERENCE as UPSTREAM



def qa(qa_id, answer):
    return {"qa_id": qa_id, "case_id": "c", "image_path": "", "question": f"q {qa_id}",
            "answer": answer, "categories": [], "source": "test", "meta": {}}


def pred(qa_id, text, model="m", status="ok"):
    return {"qa_id": qa_id, "model": model, "prediction": text, "status": status}


def test_normalise_answer_drops_case_punctuation_articles_and_spaces():
    assert normalise_answer("  The LEFT,  lung!  ") == "left lung"
    assert normalise_answer("An apple a day") == "apple day"
    assert normalise_answer("theory") == "theory"  # article only as a whole word


def test_exact_match_and_token_f1_on_known_pairs():
    assert exact_match("Left lung", "the left lung.") == 1.0
    assert exact_match("left", "right") == 0.0
    # ref {left, upper, lobe}; pred {upper, lobe, of, left, lung}: P 3/5, R 1
    assert token_f1("left upper lobe", "upper lobe of the left lung") == pytest.approx(0.75)
    assert token_f1("left", "right") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("left", "") == 0.0


def test_bleu_of_identical_text_is_100():
    refs = ["the nodule is in the right upper lobe", "no pleural effusion on either side"]
    assert corpus_bleu(refs, refs) == pytest.approx(100.0)
    assert corpus_bleu(refs, [r.upper() + "  " for r in refs]) == pytest.approx(100.0)
    assert math.isnan(corpus_bleu([], []))


def test_bleu_is_smoothed_as_sacrebleus_default_exp():
    # No 4-gram of the prediction is in the reference: the smoothing decides the score.
    ref, pred = "left upper lobe, lingula", "left upper lobe and lingula"
    import sacrebleu

    assert corpus_bleu([ref], [pred]) == pytest.approx(
        sacrebleu.BLEU(smooth_method="exp").corpus_score([pred], [[ref]]).score)
    # by hand: precisions 4/5, 2/4, 1/3 and, with no 4-gram match, exp smoothing's 1/(2 * 2)
    # (floor would use 0.1/2, giving 28.57); brevity penalty 1 (5 tokens each side)
    assert corpus_bleu([ref], [pred]) == pytest.approx(
        100 * (0.8 * 0.5 * (1 / 3) * 0.25) ** 0.25, rel=1e-9)
    assert corpus_bleu([ref], [pred]) == pytest.approx(42.73, abs=0.01)


def test_rouge_stems_with_porter_as_upstream():
    # Porter: nodules/nodule -> nodul, calcified -> calcifi; "are" and "is" stay apart.
    # rouge-1 with the stemmer: 3 of 4 tokens each side match (F 0.75); without it 2 of 4.
    scores = rouge_f("the nodules are calcified", "the nodule is calcified")
    assert scores["rouge1_f"] == pytest.approx(0.75)
    assert scores["rougeL_f"] == pytest.approx(0.75)


def test_rouge_on_known_pair():
    scores = rouge_f("the lesion is in the left lung", "the lesion is in the right lung")
    assert scores["rougeL_f"] == pytest.approx(6 / 7)  # LCS of 6 among 7 words each side
    assert scores["rouge1_f"] == pytest.approx(6 / 7)
    assert scores["rouge2_f"] == pytest.approx(4 / 6)


def test_per_item_rows_join_by_qa_id_regardless_of_order():
    items = [qa("a", "left lung"), qa("b", "upper lobe"), qa("c", "anterior")]
    preds = [pred("a", "left lung"), pred("b", "lower lobe"), pred("c", "posterior"),
             pred("a", "right lung", model="n"), pred("c", "anterior", model="n")]
    rows = per_item_text_metrics(items, preds, sbert=False)
    shuffled_items, shuffled_preds = items[:], preds[:]
    random.Random(1).shuffle(shuffled_items)
    random.Random(2).shuffle(shuffled_preds)
    again = per_item_text_metrics(shuffled_items, shuffled_preds, sbert=False)
    key = lambda r: (r["model"], r["qa_id"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(again, key=key)
    by_key = {key(r): r for r in rows}
    assert by_key[("m", "a")]["exact_match"] == 1.0
    assert by_key[("m", "b")]["token_f1"] == pytest.approx(0.5)
    assert by_key[("n", "c")]["exact_match"] == 1.0
    assert by_key[("m", "a")]["sbert_cosine"] is None


def test_unknown_qa_id_is_an_error_naming_it():
    with pytest.raises(RecordError, match="'zz'"):
        per_item_text_metrics([qa("a", "x")], [pred("zz", "x")], sbert=False)


def test_duplicate_prediction_is_an_error():
    with pytest.raises(RecordError, match="duplicate"):
        per_item_text_metrics([qa("a", "x")], [pred("a", "x"), pred("a", "y")], sbert=False)


def test_empty_and_error_predictions_are_left_out_of_the_means():
    sentence = "the lesion is in the left lung"  # BLEU needs 4-grams to be non-zero
    items = [qa("a", sentence), qa("b", "upper lobe"), qa("c", "anterior")]
    preds = [pred("a", sentence), pred("b", "   "), pred("c", "", status="error")]
    rows = per_item_text_metrics(items, preds, sbert=False)
    assert [r["empty"] for r in rows] == [False, True, True]
    assert rows[1]["exact_match"] is None
    (summary,) = text_metrics_summary(rows, items, preds)
    assert summary["model"] == "m"
    assert (summary["count"], summary["n_empty"], summary["n_errors"]) == (1, 2, 1)
    assert summary["exact_match"] == 1.0
    assert summary["bleu"] == pytest.approx(100.0)
    assert math.isnan(summary["sbert_cosine"])


@pytest.mark.slow
def test_sbert_cosine_identical_near_one_unrelated_lower():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    same, unrelated = sbert_cosines(
        ["The nodule is in the right upper lobe.", "The nodule is in the right upper lobe."],
        ["the nodule is in the right upper lobe.", "I enjoy baking bread on Sundays."],
    )
    assert same == pytest.approx(1.0, abs=1e-4)
    assert unrelated < 0.5


def _upstream_radfm():
    """RadFM's predictions joined to the QA by (case, question, answer, occurrence): no qa_id."""
    items = load_qa_items(UPSTREAM / "dataset" / "spatial_qa_filtered_full_nifti.jsonl")
    qa_ids = defaultdict(list)
    for item in items:
        qa_ids[(item["case_id"], item["question"], item["answer"])].append(item["qa_id"])
    taken = defaultdict(int)
    preds = []
    for row in iter_jsonl(UPSTREAM / "predictions" / "radfm_predictions_full.jsonl"):
        case = os.path.basename(row["image_path"]).replace(".npy", ".nii.gz")
        key = (case, row["question"], row["answer"])
        qa_id = qa_ids[key][taken[key]]
        taken[key] += 1
        preds.append(pred(qa_id, row["prediction"], model="radfm"))
    return items, preds


def test_reproduces_upstream_radfm_bleu_and_rouge():
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM}")
    items, preds = _upstream_radfm()
    rows = per_item_text_metrics(items, preds, sbert=False)
    (summary,) = text_metrics_summary(rows, items, preds)
    # published/text_metrics_summary.csv, radfm_full
    assert summary["count"] == 9077
    assert summary["bleu"] == pytest.approx(16.457095166271824, rel=1e-6)
    assert summary["rouge1_f"] == pytest.approx(0.40025775630068705, rel=1e-6)
    assert summary["rouge2_f"] == pytest.approx(0.21403747562441797, rel=1e-6)
    assert summary["rougeL_f"] == pytest.approx(0.3723984347863857, rel=1e-6)
