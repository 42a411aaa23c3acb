"""The offline judge: features on known inputs, the exported trees, the shipped artefact."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ct_spatial_bench.judges.base import Judge
from ct_spatial_bench.judges.offline.judge import (DEFAULT_MODEL_PATH, OfflineJudge, TreeEnsemble,
                                             load_artefact)
from ct_spatial_bench.judges.offline.features import (FEATURE_NAMES, SBERT_FEATURES,
                                                      EmbeddingCache, clean_prediction,
                                                      feature_matrix, sbert_similarities,
                                                      text_features)
from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT


def hashed_encoder(texts):
    """A deterministic stand-in for SBERT: unit bag-of-words vectors from hashed words."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


@pytest.fixture(scope="module")
def judge():
    return OfflineJudge(encode=hashed_encoder)


def test_clean_prediction_drops_end_tokens_and_invented_follow_ups():
    raw = "The nodule is in the right lower lobe.Question: What size?Answer: 5 mm.###</s>"
    assert clean_prediction(raw) == "The nodule is in the right lower lobe."
    assert clean_prediction("No.###</s>") == "No."
    assert clean_prediction(None) == ""


def test_text_features_on_known_inputs():
    same = text_features("Which lung?", "Right lung.", "the right lung</s>")
    assert same["exact_match"] == 1.0 and same["stem_f1"] == 1.0 and same["rule_correct"] == 1.0

    side = text_features("Which lung has the nodule?", "The left lung.", "The right lung.")
    assert side["conflict_side"] == 1.0 and side["spatial_conflicts"] >= 1
    assert side["rule_correct"] == 0.0 and side["rule_spatial conflict"] == 1.0

    yes_no = text_features("Is there pleural effusion?", "No pleural effusion.", "Yes.")
    assert yes_no["yes_no_question"] == 1.0
    assert (yes_no["answer_polarity"], yes_no["prediction_polarity"]) == (-1.0, 1.0)
    assert yes_no["polarity_agreement"] == -1.0 and yes_no["bare_yes_no_prediction"] == 1.0

    sizes = text_features("What size is the nodule?", "It measures 12 mm.", "About 1.2 cm.")
    assert sizes["sizes_match"] == 1.0
    assert text_features("What size?", "12 mm", "3 cm")["sizes_match"] == -1.0

    novel = text_features("Where is the nodule in the right lung?", "Right lower lobe.",
                          "The nodule is in the right lung.")
    assert novel["novel_recall"] == 0.0  # "lower lobe" is the answer; "right lung" was given


def test_answer_features_read_the_prediction_against_the_question():
    restated = text_features("Are the vertebral heights normal?", "Yes",
                             "The vertebral heights are normal.")
    assert restated["polarity_resolved_agreement"] == 1.0  # a plain "normal" statement is a yes
    assert restated["polarity_agreement"] == 0.0  # which the surface polarity cannot tell
    normal_for_no = text_features("Are there any abnormalities in the aorta?",
                                  "The aorta diameter is normal.", "No.")
    assert normal_for_no["polarity_resolved_agreement"] == 1.0

    yes_to_which = text_features("Which lung has the nodule?", "The left lung.", "yes")
    assert yes_to_which["yes_no_to_open_question"] == 1.0
    assert yes_to_which["bare_yes_no_to_open_question"] == 1.0
    no_to_choice = text_features("Is the trachea central or lateral?", "In the midline.", "No.")
    assert no_to_choice["yes_no_to_choice"] == 1.0
    choice = text_features("Is the effusion unilateral or bilateral?", "Both sides.",
                           "The effusion is unilateral.")
    assert choice["choice_present"] == 1.0 and choice["choice_agreement"] == -1.0

    lobe_only = text_features("Where is the nodule?", "Right lower lobe, superior segment.",
                              "The nodule is in the right lower lobe.")
    assert lobe_only["required_lobe"] == 1.0 and lobe_only["required_segment"] == -1.0
    distal = text_features("Where is the hernia?", "In the lower esophagus.",
                           "In the distal esophagus. It is small.")
    assert distal["canon_content_recall"] == 1.0  # "distal" is read as "lower"
    assert distal["first_recall"] == 1.0 and distal["prediction_sentences"] == 2.0


def test_text_features_are_complete_and_finite():
    for item in [("", "", ""), ("Where?", "Left.", "</s>"), ("How many?", "two", "3 nodes")]:
        features = text_features(*item)
        assert tuple(features) + SBERT_FEATURES == FEATURE_NAMES
        assert all(np.isfinite(v) for v in features.values())


def test_sbert_similarities_encode_each_text_once():
    calls = []

    def counting(texts):
        calls.append(list(texts))
        return hashed_encoder(texts)

    cache = EmbeddingCache(counting)
    items = [("Which side?", "Left", "left"), ("Which side?", "Left", "")]
    sims = sbert_similarities(items, cache)
    assert sims.shape == (2, len(SBERT_FEATURES))
    assert sims[0, 0] == pytest.approx(1.0) and sims[1, 0] == 0.0
    sbert_similarities(items, cache)
    assert len(calls) == 1 and len(calls[0]) == len(set(calls[0]))


def test_tree_ensemble_walks_its_trees():
    # Tree 0: x0 <= 0.5 ? -1 : +1.  Tree 1 is a single leaf of 0.5.
    trees = TreeEnsemble(0.25, roots=[0, 3], feature=[0, -1, -1, -1], threshold=[0.5, 0, 0, 0],
                         left=[1, -1, -1, -1], right=[2, -1, -1, -1], value=[0, -1, 1, 0.5])
    scores = trees.decision_function(np.array([[0.0], [0.5], [0.9]]))
    assert scores.tolist() == [-0.25, -0.25, 1.75]
    assert TreeEnsemble(**trees.to_dict()).decision_function(np.array([[1.0]]))[0] == 1.75


def test_exported_trees_match_scikit_learn():
    from ct_spatial_bench.judges.offline.training import _classifier, export_trees

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    classifier = _classifier({"max_iter": 20, "max_leaf_nodes": 8, "learning_rate": 0.1})
    classifier.fit(X, y)
    exported = export_trees(classifier).predict_proba(X)
    assert np.allclose(exported, classifier.predict_proba(X)[:, 1], atol=1e-9)


def test_judges_labels_give_one_row_per_vote():
    from ct_spatial_bench.judges.offline.training import fit_classifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    votes = np.stack([y, y, np.where(X[:, 1] > 1.5, np.nan, y)], axis=1).astype(float)
    params = {"label": "judges", "max_iter": 5, "max_leaf_nodes": 4, "learning_rate": 0.1}
    model = fit_classifier(X, y, votes, params)
    assert model.n_iter_ == 5 and (model.predict_proba(X)[:, 1] >= 0.5).mean() > 0.3
    with pytest.raises(ValueError, match="votes"):
        fit_classifier(X, y, None, params)
    with pytest.raises(ValueError, match="label"):
        fit_classifier(X, y, votes, {**params, "label": "gemini"})


def test_threshold_is_the_centre_of_the_best_plateau():
    from ct_spatial_bench.judges.offline.training import THRESHOLDS, plateau_threshold

    curve = np.full(len(THRESHOLDS), 0.5)
    curve[2] = 0.9  # a lone spike
    curve[15:22] = 0.8  # a plateau
    threshold, smoothed = plateau_threshold(curve, window=3)
    assert threshold == THRESHOLDS[18] and smoothed == pytest.approx(0.8)


def test_shipped_artefact_is_small_and_matches_the_features():
    assert DEFAULT_MODEL_PATH.stat().st_size < 2_000_000
    artefact = load_artefact()
    assert set(artefact["features"]) <= set(FEATURE_NAMES)
    assert not set(artefact["features"]) & set(SBERT_FEATURES)  # shipped: text features only
    assert 0.0 < artefact["threshold"] < 1.0
    assert artefact["training"]["retrain"]


def test_offline_judge_judges_without_network_and_is_deterministic(judge):
    assert isinstance(judge, Judge) and judge.name == "offline"
    items = [("Which lung has the nodule?", "The left lung.", "The left lung.</s>"),
             ("Which lung has the nodule?", "The left lung.", "The right lung."),
             ("Is there pleural effusion?", "No pleural effusion.", "Yes, a large effusion."),
             ("Which lung has the nodule?", "The left lung.", "  ")]
    first = [j.verdict for j in judge.judge_batch(items)]
    assert first == [CORRECT, INCORRECT, INCORRECT, INCORRECT]
    assert [judge.judge(*item).verdict for item in items] == first
    assert OfflineJudge(encode=hashed_encoder).judge_batch(items)[1].raw == \
        judge.judge_batch(items)[1].raw


def test_a_feature_mismatch_is_refused(tmp_path):
    import json

    artefact = json.loads(DEFAULT_MODEL_PATH.read_text())
    path = tmp_path / "model.json"
    renamed = {**artefact, "features": ["made_up_feature", *artefact["features"][1:]]}
    path.write_text(json.dumps(renamed))
    with pytest.raises(ValueError, match="retrain"):
        OfflineJudge(model_path=path)
    path.write_text(json.dumps({**artefact, "features": artefact["features"][:3]}))
    with pytest.raises(ValueError, match="retrain"):
        OfflineJudge(model_path=path)  # its trees read columns past the list


def test_runner_uses_batches_and_a_failing_batch_is_failed(judge, monkeypatch):
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    assert create_judge("offline").name == "offline"
    qa = [{"qa_id": "a", "question": "Which side?", "answer": "Left"},
          {"qa_id": "b", "question": "Which side?", "answer": "Right"}]
    preds = [{"qa_id": "a", "model": "m", "prediction": "Left", "status": "ok"},
             {"qa_id": "b", "model": "m", "prediction": "", "status": "error", "error": "boom"}]
    verdicts = judge_predictions([judge], qa, preds, progress=False)
    # b's model call failed: no answer, so no verdict either (metrics count it as an error)
    assert [(v["qa_id"], v["verdict"]) for v in verdicts] == [("a", CORRECT), ("b", FAILED)]

    def explode(items, progress=False):
        raise RuntimeError("no")

    monkeypatch.setattr(judge, "judge_batch", explode)
    verdicts = judge_predictions([judge], qa, preds, progress=False)
    assert [v["verdict"] for v in verdicts] == [FAILED, FAILED]


def test_feature_matrix_shape():
    X = feature_matrix([("Where?", "Left.", "Left.")] * 3, EmbeddingCache(hashed_encoder))
    assert X.shape == (3, len(FEATURE_NAMES)) and np.isfinite(X).all()


def test_offline_judge_states_its_length_domain():
    from ct_spatial_bench.judges.offline.judge import load_artefact
    from ct_spatial_bench.judges.offline.training import (
        answer_length_domain,
        answers_outside_domain,
    )

    words = list(range(1, 101))  # 1..100 words: 1st percentile 1.99, 99th 99.01 (numpy linear)
    preds = [{"qa_id": f"q{n}", "model": "m", "prediction": "w " * n, "status": "ok"}
             for n in words]  # whole prediction rows: they are read as Prediction records
    domain = answer_length_domain(preds)
    assert (domain["low"], domain["high"]) == pytest.approx((1.99, 99.01))
    assert (domain["min"], domain["max"]) == (1, 100)
    rows = answers_outside_domain(
        [{"qa_id": "a", "model": "long", "prediction": "w " * 120, "status": "ok"},
         {"qa_id": "b", "model": "long", "prediction": "w " * 5, "status": "ok"},
         {"qa_id": "a", "model": "short", "prediction": "w " * 5, "status": "ok"}],
        {"low": 2.0, "high": 44.0})
    assert {r["model"]: (r["share_outside"], r["flagged"]) for r in rows} == {
        "long": (0.5, True), "short": (0.0, False)}
    shipped = load_artefact()["training"]["answer_words"]
    assert shipped["low"] <= shipped["high"] and set(shipped["mean_per_model"]) == {
        "radfm", "merlin"}
