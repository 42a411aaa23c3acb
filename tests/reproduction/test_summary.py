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
    out = add_offline_agreement(summary, jury, offline)
    assert out.loc[0, "offline_kappa"] == 1.0 and out.loc[0, "offline_accuracy"] == 1.0
    assert out.loc[1, ["offline_kappa", "offline_accuracy"]].isna().all()
    assert "offline_kappa" not in summary
