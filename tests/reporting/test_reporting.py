import base64
import math
import random

import pandas as pd
import pytest

from ct_spatial_bench.judges.jury import jury_decisions
from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model
from ct_spatial_bench.metrics.text import per_item_text_metrics, text_metrics_summary
from ct_spatial_bench.reporting.plots import plot_answer_lengths, plot_category_accuracy
from ct_spatial_bench.reporting.summary import html_report, summary_markdown
from ct_spatial_bench.reporting.tables import category_table, correctness_matrix, leaderboard
from ct_spatial_bench.spatial.categories import CATEGORIES, DEPTH, LATERALITY, LONGITUDINAL

EVIL = "<script>alert(1)</script>"
ITEMS = [
    {"qa_id": f"q{i}", "case_id": f"c{i}", "image_path": "", "question": f"question {i}",
     "answer": answer, "categories": cats, "source": "test", "meta": {}}
    for i, (answer, cats) in enumerate([
        ("the left lung", [LATERALITY]), ("above the diaphragm", [LONGITUDINAL]),
        ("anterior to the aorta", [DEPTH, LATERALITY]), ("right", [LATERALITY]),
    ])
]
MODELS = ("alpha", EVIL)
PREDS = [{"qa_id": f"q{i}", "model": m, "prediction": text, "status": "ok"}
         for m in MODELS for i, text in enumerate(
             ["left lung", "below the diaphragm, in the abdomen", "anterior", "the right side"])]
VOTES = {  # (model, qa_id) -> verdicts of judges j1, j2
    ("alpha", "q0"): ("correct", "correct"), ("alpha", "q1"): ("incorrect", "failed"),
    ("alpha", "q2"): ("correct", "incorrect"), ("alpha", "q3"): ("failed", "failed"),
    (EVIL, "q0"): ("correct", "correct"), (EVIL, "q1"): ("correct", "correct"),
}
VERDICTS = [{"qa_id": q, "model": m, "judge": j, "judge_model": j, "verdict": v}
            for (m, q), votes in VOTES.items() for j, v in zip(("j1", "j2"), votes)]


@pytest.fixture(scope="module")
def tables():
    decisions = jury_decisions(VERDICTS, rule="majority")
    accuracy = accuracy_by_model(ITEMS, PREDS, decisions, n_boot=200)
    categories = accuracy_by_category(ITEMS, decisions, PREDS)
    text_rows = per_item_text_metrics(ITEMS, PREDS, sbert=False)
    text = text_metrics_summary(text_rows, ITEMS, PREDS)
    return {"decisions": decisions, "accuracy": accuracy, "categories": categories,
            "text": text, "board": leaderboard(accuracy, text),
            "category_df": category_table(categories)}


def test_correctness_matrix_values_and_shape(tables):
    matrix = correctness_matrix(ITEMS, VERDICTS, tables["decisions"])
    assert matrix.index.name == "qa_id"
    assert list(matrix.index) == ["q0", "q1", "q2", "q3"]
    assert list(matrix.columns) == ["categories", f"{EVIL}/j1", f"{EVIL}/j2", f"{EVIL}/jury",
                                    "alpha/j1", "alpha/j2", "alpha/jury"]
    assert matrix.loc["q2", "categories"] == f"{DEPTH}; {LATERALITY}"
    assert matrix.loc["q0", "alpha/jury"] == 1.0
    assert matrix.loc["q1", "alpha/j1"] == 0.0
    assert math.isnan(matrix.loc["q1", "alpha/j2"])  # failed
    assert matrix.loc["q2", "alpha/jury"] == 0.0  # majority tie -> incorrect
    assert math.isnan(matrix.loc["q3", "alpha/jury"])  # every verdict failed
    assert math.isnan(matrix.loc["q3", f"{EVIL}/j1"])  # no verdict at all
    shuffled = VERDICTS[:]
    random.Random(0).shuffle(shuffled)
    pd.testing.assert_frame_equal(matrix, correctness_matrix(ITEMS, shuffled, tables["decisions"]))


def test_category_table_is_six_categories_by_models(tables):
    table = tables["category_df"]
    assert list(table["category"]) == list(CATEGORIES)
    assert list(table.columns) == ["category", "n", "alpha", EVIL]
    row = table.set_index("category").loc[LATERALITY]
    assert row["n"] == 3
    assert row["alpha"] == pytest.approx(0.5)  # q0 correct, q2 incorrect, q3 failed


def test_leaderboard_sorts_by_accuracy_and_keeps_every_model(tables):
    board = tables["board"]
    assert list(board["model"]) == [EVIL, "alpha"]
    assert board.loc[0, "accuracy"] == 1.0
    assert board.loc[1, "n_failed"] == 1
    assert {"bleu", "rougeL_f", "accuracy_ci_low", "n_missing"} <= set(board.columns)
    only_text = leaderboard([], tables["text"])
    assert len(only_text) == 2 and only_text["accuracy"].isna().all()


def test_plots_return_figures_with_a_bar_per_model_and_category(tables):
    from matplotlib.figure import Figure

    fig = plot_category_accuracy(tables["categories"])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_ylim() == (0.0, 1.0)
    assert len(ax.get_xticklabels()) == 6
    # alpha has 3 judged categories; EVIL has laterality and longitudinal
    assert len(ax.patches) == 3 + 2
    lengths = plot_answer_lengths(ITEMS, PREDS)
    assert isinstance(lengths, Figure)
    assert len(lengths.axes[0].get_yticklabels()) == 3  # reference + two models


def test_summary_markdown_reads_first(tables):
    text = summary_markdown(tables["board"], tables["category_df"],
                            {"split": "sanity", "judges": ["j1", "j2"], "jury_rule": "majority",
                             "outputs": {"report": "data/08_reporting/report.html"}})
    assert "sanity" in text and "j1, j2" in text
    assert "| alpha | 0.333 [0.000, 1.000] |" in text  # accuracy with its interval
    # full category names, as every other table and plot (issue 25)
    assert ("alpha: best Laterality &amp; Bilateral Symmetry (0.500), worst Longitudinal "
            "(Vertical) Position, Anterior-Posterior (Depth) Relations (0.000)") in text
    assert "data/08_reporting/report.html" in text
    assert "alpha: model errors 0 (outside accuracy), undecided by the judges 1" in text
    assert "<script>" not in text


def test_html_report_is_self_contained_and_escapes_data(tables, tmp_path):
    fig = plot_category_accuracy(tables["categories"])
    png = tmp_path / "lengths.png"
    plot_answer_lengths(ITEMS, PREDS).savefig(png)
    text_df = pd.DataFrame(tables["text"])
    page = html_report(tables["board"], tables["category_df"], text_df,
                       {"categories": fig, EVIL: str(png)}, {"note": EVIL})
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 2
    encoded = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(encoded)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in page and "https://" not in page


def test_best_and_worst_say_what_is_true():
    from ct_spatial_bench.reporting.summary import best_and_worst_categories, extremes_sentence

    frame = pd.DataFrame({"category": [LATERALITY, LONGITUDINAL, DEPTH], "n": [3, 2, 1],
                          "one": [1.0, float("nan"), float("nan")], "equal": [0.5, 0.5, 0.5],
                          "tie": [1.0, 1.0, 0.0]})
    sentences = {r["model"]: extremes_sentence(r) for r in best_and_worst_categories(frame)}
    assert sentences["one"] == f"only {LATERALITY} judged (1.000)"
    assert sentences["equal"] == "the same accuracy (0.500) in all 3 judged categories"
    assert sentences["tie"] == f"best {LATERALITY}, {LONGITUDINAL} (1.000), worst {DEPTH} (0.000)"


def test_category_table_shows_intervals_n_and_the_overlap(tables):
    from ct_spatial_bench.reporting.tables import (
        category_overlap_note,
        category_table_with_intervals,
    )

    view = category_table_with_intervals(tables["categories"]).set_index("category")
    row = next(r for r in tables["categories"]
               if r["category"] == LATERALITY and r["model"] == "alpha")
    assert view.loc[LATERALITY, "alpha"] == (
        f"{row['accuracy']:.3f} [{row['accuracy_ci_low']:.3f}, "
        f"{row['accuracy_ci_high']:.3f}] (n={row['n']})")
    # q2 carries two categories: 4 items, n sums to 5
    assert category_overlap_note(ITEMS).startswith(
        "Categories overlap: 1 of 4 items carry several categories and count in each, so n "
        "sums to 5.")


def test_failure_browser_counts_items_not_rows():
    from ct_spatial_bench.reporting.failures import failures_html

    rows = [{"model": "m", "category": c, "qa_id": "q2", "question": "", "answer": "",
             "prediction": "left", "status": "ok", "error": None, "votes": "", "reasons": "",
             "similarity": 0.0} for c in (LATERALITY, DEPTH)]
    assert "m (1 wrong item shown, each under every one of its categories)" in failures_html(rows)
