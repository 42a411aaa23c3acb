"""The reproduction summary's columns computed beside upstream's."""

import pandas as pd

from ct_spatial_bench.reproduction.summary import add_offline_agreement


def test_reproduce_summary_gets_the_offline_columns():
    def verdict(qa_id, judge, value):
        return {"qa_id": qa_id, "model": "m", "judge": judge, "judge_model": judge,
                "verdict": value}

    jury = [verdict("1", "gpt", "correct"), verdict("2", "gpt", "incorrect")]
    offline = [verdict("1", "offline", "correct"), verdict("2", "offline", "incorrect")]
    summary = pd.DataFrame([{"model": "m"}, {"model": "other"}])
    out = add_offline_agreement(summary, jury, offline)  # the shipped judge never saw "m"
    assert out.loc[0, "offline_kappa"] == 1.0 and out.loc[0, "offline_accuracy"] == 1.0
    assert out.loc[1, ["offline_kappa", "offline_accuracy"]].isna().all()
    assert "offline_kappa" not in summary


def _random_upstream(n_cases=60, per_case=4, seed=0):
    """Answers and jury votes that have nothing to do with each other: no judge can learn them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    words = ["left", "right", "upper", "lower", "lobe", "nodule", "effusion", "hilum", "base"]
    qa_items, predictions, verdicts = [], [], []
    for c in range(n_cases):
        for k in range(per_case):
            qa_id = f"c{c}-{k}"
            qa_items.append({"qa_id": qa_id, "case_id": f"c{c}", "question": "Where is it?",
                             "answer": " ".join(rng.choice(words, 3))})
            predictions.append({"qa_id": qa_id, "model": "m", "status": "ok",
                                "prediction": " ".join(rng.choice(words, rng.integers(1, 9)))})
            value = "correct" if rng.random() < 0.5 else "incorrect"
            verdicts += [{"qa_id": qa_id, "model": "m", "judge": j, "judge_model": j,
                          "verdict": value} for j in ("gpt", "qwen")]
    return qa_items, predictions, verdicts


def test_crossfit_kappa_is_out_of_fold_where_the_judge_trained_on_the_verdicts():
    import numpy as np

    from ct_spatial_bench.judges.offline.crossfit import crossfit_agreement
    from ct_spatial_bench.judges.offline.features import feature_matrix
    from ct_spatial_bench.judges.offline.training import fit_classifier
    from sklearn.metrics import cohen_kappa_score

    qa_items, predictions, verdicts = _random_upstream()
    features = ["stem_f1", "prediction_words", "novel_f1", "char_ratio"]
    params = {"label": "jury", "learning_rate": 0.5, "max_iter": 60, "max_leaf_nodes": 31}
    artefact = {"features": features, "threshold": 0.5,
                "training": {"items": {"m": len(qa_items)}, "selection": {"params": params}}}
    by_id = {q["qa_id"]: q for q in qa_items}
    X = feature_matrix([(by_id[p["qa_id"]]["question"], by_id[p["qa_id"]]["answer"],
                         p["prediction"]) for p in predictions], names=features)
    y = np.array([int(v["verdict"] == "correct") for v in verdicts[::2]])
    in_sample = fit_classifier(X, y, None, params).predict_proba(X)[:, 1] >= 0.5
    assert cohen_kappa_score(y, in_sample) > 0.3  # memorised: what an in-sample figure shows
    (row,) = crossfit_agreement(qa_items, predictions, verdicts, artefact).values()
    assert abs(row["offline_kappa_crossfit"]) < 0.15  # nothing to learn, out of fold: ~0
    assert row["offline_n_crossfit"] == len(qa_items)
    # in summary.csv the trained-on model gets the crossfit figure, never the in-sample one
    offline = [{**v, "judge": "offline", "judge_model": "offline"} for v in verdicts[::2]]
    out = add_offline_agreement(pd.DataFrame([{"model": "m"}]), verdicts, offline, qa_items,
                                predictions, artefact=artefact)
    assert pd.isna(out.loc[0, "offline_kappa"])
    assert out.loc[0, "offline_kappa_crossfit"] == row["offline_kappa_crossfit"]
