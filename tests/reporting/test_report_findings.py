"""Issue 25's report findings, each checked where it could come back: BLEU on the 0-1 scale of
the other text metrics, a linear length axis whose count labels stay clear of the title, and the
judge-agreement figure drawn when two judges ran. Expected values are hand computations and
matplotlib's own geometry (what the renderer draws), not our code's output."""

import math

from ct_spatial_bench.reporting.plots import plot_judge_agreement
from ct_spatial_bench.reporting.report import _intervals_view
from ct_spatial_bench.reporting.validity import plot_accuracy_by_length


def test_bleu_is_shown_on_the_zero_to_one_scale_of_rouge():
    rows = [{"model": "m", "metric": "bleu", "mean": 42.73, "ci_low": 30.0, "ci_high": 55.5},
            {"model": "m", "metric": "rouge1_f", "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6},
            {"model": "m", "metric": "bleu_short", "mean": 12.0, "ci_low": math.nan,
             "ci_high": math.nan}]
    [row] = _intervals_view(rows).to_dict("records")
    assert row["bleu"] == "0.427 [0.300, 0.555]"  # 42.73 / 100, by hand
    assert row["rouge1_f"] == "0.500 [0.400, 0.600]"  # already 0-1: untouched


def test_the_length_plot_is_linear_and_its_labels_stay_below_the_title():
    bins = [{"model": "a", "words_mean": w, "accuracy": acc, "n": n}
            for w, acc, n in ((1.0, 1.0, 40), (2.5, 0.95, 12), (4.0, 0.5, 6), (7.0, 1.0, 3))]
    fig = plot_accuracy_by_length(bins, reference_median=2.0)
    [ax] = [a for a in fig.axes if a.get_title()]
    assert ax.get_xscale() == "linear" and ax.get_xlim()[0] == 0  # 1-7 words: no log axis
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # the renderer the PNG is drawn with
    canvas.draw()
    renderer = canvas.get_renderer()
    title = ax.title.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text() in {"40", "12", "6", "3"}]
    assert len(labels) == 4
    for label in labels:  # display coordinates grow upward: a label's top under the title
        assert label.get_window_extent(renderer).y1 < title.y0, label.get_text()


def test_judge_agreement_is_drawn_when_two_judges_ran():
    rows = [{"judge_a": "gpt", "judge_b": "gemini", "kappa": 0.6, "agreement": 0.8, "n": 50},
            {"judge_a": "gpt", "judge_b": "qwen", "kappa": math.nan, "agreement": 1.0, "n": 50}]
    fig = plot_judge_agreement(rows)
    [ax] = fig.axes
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [0.0, 0.6, 0.8, 1.0]  # two bars a pair; an undefined kappa drawn at 0
    assert [t.get_text() for t in ax.get_yticklabels()] == ["gpt vs gemini (n=50)",
                                                          "gpt vs qwen (n=50)"]
    assert not ax.texts  # not the "needs two or more judges" placeholder
    empty = plot_judge_agreement([])
    assert "two or more judges" in empty.axes[0].texts[0].get_text()
