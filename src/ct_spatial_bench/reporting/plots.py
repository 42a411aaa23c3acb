"""Figures of the report.

matplotlib is imported inside each function, on the Agg backend, so the pipelines import fast and
plotting works without a display (a cluster node, CI). Figures are built as bare
``matplotlib.figure.Figure`` objects, outside pyplot's registry, so a long run that makes many
never leaks them and nobody has to remember ``plt.close``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from typing import Any

from ct_spatial_bench.spatial.categories import CATEGORIES


def _new_figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def plot_category_accuracy(category_rows: Iterable[dict[str, Any]]):
    """Grouped bars: one group per spatial category, one bar per model, accuracy on a 0-1 axis.

    Category names are wrapped onto several lines so the six long names stay readable; an empty
    category (no judged item) has no bar rather than a zero one, which would read as a result.
    """
    rows = list(category_rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    present = {r["category"] for r in rows}
    categories = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    accuracy = {(r["category"], r["model"]): r["accuracy"] for r in rows}

    fig, ax = _new_figure(max(8.0, 1.6 * len(categories) + 0.4 * len(models)), 4.8)
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        xs, heights = [], []
        for j, category in enumerate(categories):
            value = accuracy.get((category, model))
            if value is not None and not math.isnan(value):
                xs.append(j - 0.4 + width * (i + 0.5))
                heights.append(value)
        ax.bar(xs, heights, width=width, label=model)
    ax.set_xticks(range(len(categories)))
    labels = [textwrap.fill(c, 18, break_on_hyphens=False) for c in categories]
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("jury accuracy")
    ax.set_title("Accuracy by spatial category")
    ax.grid(axis="y", alpha=0.3)
    if models:
        ax.legend(fontsize=8, ncol=min(4, len(models)), loc="upper right")
    fig.tight_layout()
    return fig


def _word_count(text: Any) -> int:
    return len(str(text or "").split())


def plot_answer_lengths(
    qa_items: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]]
):
    """Box plots of answer length in words: the references, then each model's ok predictions.

    Length matters for reading the text metrics: BLEU and ROUGE punish a model that answers in a
    paragraph what the reference says in a phrase, whatever the spatial content.
    """
    groups: dict[str, list[int]] = {"reference": [_word_count(q["answer"]) for q in qa_items]}
    for pred in predictions:
        if pred.get("status", "ok") == "ok":
            groups.setdefault(pred["model"], []).append(_word_count(pred["prediction"]))
    labels = list(groups)
    fig, ax = _new_figure(8.0, max(2.5, 0.45 * len(labels) + 1.2))
    data = [groups[k] or [0] for k in labels]
    style = {"showfliers": True, "flierprops": {"markersize": 2, "alpha": 0.4}}
    try:
        ax.boxplot(data, orientation="horizontal", **style)  # matplotlib >= 3.10
    except TypeError:
        ax.boxplot(data, vert=False, **style)
    ax.set_yticks(range(1, len(labels) + 1))
    ax.set_yticklabels([f"{k} (n={len(groups[k])})" for k in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("words per answer")
    ax.set_title("Answer length: references vs models")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
