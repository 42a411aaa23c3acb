"""Upstream's scoring (``metrics.jury_rule: upstream_avg3``, its category table) against hand
computations and against upstream's published figures on its public files."""

from __future__ import annotations

import csv
import json

import pytest
from support.project import UPSTREAM_REFERENCE as UPSTREAM

from ct_spatial_bench.judges.jury import decide, jury_decisions
from ct_spatial_bench.judges.upstream_scoring import (upstream_category_table,
                                                       upstream_decisions, upstream_scores)

C, I, F = "correct", "incorrect", "failed"


@pytest.mark.parametrize("votes, n_judges, expected", [
    ([C, C, I], 3, C),   # 2/3 = 0.666.. floored to 0.66 >= 0.66
    ([C, C, F], 3, C),   # a null vote is a 0, the other two carry it
    ([C, F, F], 3, I),   # 0.33
    ([C, C], 3, C),      # a judge missing on the item: 0 of 3, still 2/3
    ([C], 3, I),
    ([F, F, F], 3, I),   # upstream scored all-null as 0.00: incorrect, not failed
    ([C, I], 2, I),      # two judges: 0.5
    ([C, C], 2, C),
])
def test_avg3_by_hand(votes, n_judges, expected):
    assert decide(votes, "upstream_avg3", n_judges) == expected


def _verdict(model, qa_id, judge, verdict):
    return {"qa_id": qa_id, "model": model, "judge": judge, "judge_model": judge,
            "verdict": verdict, "reason": "", "raw": "", "prompt_version": "x", "tokens": {},
            "latency_s": 0.0}


def test_a_judge_missing_from_an_item_votes_zero_and_errors_stay_outside():
    verdicts = [_verdict("m", "a", "gpt", C), _verdict("m", "a", "qwen", C),  # gemini missing
                _verdict("m", "b", "gpt", C), _verdict("m", "b", "qwen", I),
                _verdict("m", "b", "gemini", C),
                _verdict("m", "c", "gpt", F), _verdict("m", "c", "qwen", F),
                _verdict("m", "c", "gemini", F),
                _verdict("m", "e", "gpt", F)]
    predictions = [{"qa_id": q, "model": "m", "prediction": "x", "status": "ok"} for q in "abc"]
    predictions.append({"qa_id": "e", "model": "m", "prediction": "", "status": "error"})
    decisions = upstream_decisions(verdicts, predictions, ["gpt", "gemini", "qwen"])
    assert decisions == {("m", "a"): C, ("m", "b"): C, ("m", "c"): I}
    (row,) = upstream_scores(verdicts, predictions, ["gpt", "gemini", "qwen"])
    assert row["n_items"] == 3 and row["upstream_avg3"] == pytest.approx(2 / 3)
    # per judge: correct over its decided verdicts (a null left out), errors outside
    assert (row["judge_gpt"], row["n_gpt"]) == (1.0, 2)
    assert (row["judge_qwen"], row["n_qwen"]) == (0.5, 2)
    assert (row["judge_gemini"], row["n_gemini"]) == (1.0, 1)
    qa = [{"qa_id": q, "categories": cats} for q, cats in
          [("a", ["Laterality & Bilateral Symmetry"]), ("b", ["Adjacency & Containment"]),
           ("c", ["Laterality & Bilateral Symmetry"]), ("d", ["Adjacency & Containment"]),
           ("e", ["Adjacency & Containment"])]]
    table = upstream_category_table(qa, decisions, predictions)
    # "d" has no decision at all: 0 over the category's items (missing zero); "e" errored: out
    assert table == [{"category": "Adjacency & Containment", "count": 3, "m": 50.0},
                     {"category": "Laterality & Bilateral Symmetry", "count": 2, "m": 50.0}]


# Upstream's paper (MICCAI2026.pdf at e25374c), Table 1, "LLM as Judge" rows, in percent: the
# per-judge figures of the two models whose judge files are public here.
PAPER_PER_JUDGE = {("radfm", "gemini"): 33.36, ("radfm", "gpt"): 31.40, ("radfm", "qwen"): 32.09,
                   ("merlin", "gpt"): 29.45, ("merlin", "qwen"): 30.34}


@pytest.fixture(scope="module")
def reference():
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM}")
    from ct_spatial_bench.reproduction.summary import load_upstream_benchmark
    from ct_spatial_bench.reproduction.upstream_files import JUDGES

    loaded = load_upstream_benchmark(UPSTREAM)
    decisions = upstream_decisions(loaded["verdicts"], loaded["predictions"], JUDGES)
    scores = {r["model"]: r for r in upstream_scores(loaded["verdicts"], loaded["predictions"],
                                                     JUDGES)}
    table = upstream_category_table(loaded["qa_items"], decisions, loaded["predictions"])
    return scores, table


def test_reproduces_the_published_jury_and_per_judge_figures(reference):
    scores, _ = reference
    published = {r["model"]: r for r in json.loads(
        (UPSTREAM / "published" / "llm_jury_accuracy.json").read_text())}
    # RadFM: all three judges public and aligned -> upstream's figure to the last digit
    assert scores["radfm"]["upstream_avg3"] == published["radfm"]["llm_jury_accuracy"]
    assert scores["radfm"]["n_items"] == published["radfm"]["count"]
    for (model, judge), figure in PAPER_PER_JUDGE.items():
        assert round(100 * scores[model][f"judge_{judge}"], 2) == figure, (model, judge)
    # Merlin's Gemini file is not public: with a missing vote counting 0 its avg3 is lower than
    # the published one, and says so rather than matching by accident
    assert scores["merlin"]["n_gemini"] == 0
    assert scores["merlin"]["upstream_avg3"] < published["merlin"]["llm_jury_accuracy"]


def test_category_table_equals_the_published_one_to_its_rounding(reference):
    _, table = reference
    with open(UPSTREAM / "published" / "category_performance.csv", newline="") as handle:
        published = {r["category"]: r for r in csv.DictReader(handle)}
    assert [r["category"] for r in table] == sorted(published)
    for row in table:
        theirs = published[row["category"]]
        assert row["count"] == int(theirs["count"])
        assert f"{row['radfm']:.2f}" == theirs["radfm"], row["category"]


def test_project_rule_is_unchanged_by_the_option():
    verdicts = [_verdict("m", "a", "gpt", C), _verdict("m", "a", "qwen", F)]
    assert jury_decisions(verdicts, rule="mean066") == {("m", "a"): C}
    assert jury_decisions(verdicts, ["gpt", "gemini", "qwen"], "upstream_avg3") == {("m", "a"): I}


def test_report_section_puts_upstreams_scoring_beside_ours():
    from ct_spatial_bench.judges.upstream_scoring import side_by_side
    from ct_spatial_bench.reporting.upstream import upstream_scoring_section

    verdicts = [_verdict("m", "a", "gpt", C), _verdict("m", "a", "qwen", C),
                _verdict("m", "a", "gemini", F),
                _verdict("m", "b", "gpt", C), _verdict("m", "b", "qwen", F),
                _verdict("m", "b", "gemini", F)]
    predictions = [{"qa_id": q, "model": "m", "prediction": "x", "status": "ok"} for q in "ab"]
    (row,) = side_by_side(verdicts, predictions, ["gpt", "gemini", "qwen"])
    # upstream: a 2/3 and a 1/3 -> 0.5 over both; ours: both decided correct on usable votes
    assert (row["upstream_avg3"], row["upstream_n"]) == (0.5, 2)
    assert (row["ours_majority"], row["ours_mean066"]) == (1.0, 1.0)
    qa = [{"qa_id": q, "categories": ["Adjacency & Containment"]} for q in "ab"]
    (title, html), = upstream_scoring_section(qa, predictions, verdicts).items()
    assert "upstream_avg3" in html and "ours_majority" in html and "50.00" in html


def test_reproduce_nodes_write_upstreams_tables_and_compare_them(tmp_path):
    """The reproduce pipeline's upstream_scoring / upstream_category_performance tables, and
    ``jury_upstream_avg3`` against llm_jury_accuracy.json in published_comparison."""
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM}")
    import pandas as pd

    from ct_spatial_bench.pipelines.reproduce.nodes import (compare_with_published,
                                                            read_upstream_files,
                                                            score_as_upstream)

    qa, predictions, verdicts, _ = read_upstream_files({"source_dir": str(UPSTREAM)})
    scoring, categories = score_as_upstream(qa, predictions, verdicts)
    assert set(scoring["model"]) == {"radfm", "merlin"}
    assert list(categories.columns) == ["category", "count", "merlin", "radfm"]
    summary = pd.DataFrame([{"model": m, "jury_mean066": 0.0, "judges": ""}
                            for m in ("radfm", "merlin")])
    compared = compare_with_published(summary, {"source_dir": str(UPSTREAM)}, scoring)
    row = compared[(compared["model"] == "radfm") & (compared["column"] == "jury_upstream_avg3")]
    assert float(row["relative_difference"].iloc[0]) == 0.0
