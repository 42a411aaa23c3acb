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

from ct_spatial_bench.records import OK, as_prediction, entry_of, qa_item
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
    category_rows = list(category_rows)
    categories, models, accuracy = _category_grid(category_rows)
    interval = {(r["category"], r["model"]): (r.get("accuracy_ci_low"), r.get("accuracy_ci_high"))
                for r in category_rows}
    fig, ax = _new_figure(max(8.0, 1.6 * len(categories) + 0.4 * len(models)), 4.8)
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        xs, heights, errors = [], [], [[], []]
        for j, category in enumerate(categories):
            value = accuracy.get((category, model))
            if value is not None and not math.isnan(value):
                xs.append(j - 0.4 + width * (i + 0.5))
                heights.append(value)
                low, high = interval.get((category, model), (None, None))
                known = low is not None and high is not None and not math.isnan(low)
                errors[0].append(max(0.0, value - low) if known else 0.0)
                errors[1].append(max(0.0, high - value) if known else 0.0)
        ax.bar(xs, heights, width=width, label=model, yerr=errors, capsize=2,
               error_kw={"elinewidth": 0.8, "alpha": 0.7})
    ax.set_xticks(range(len(categories)))
    labels = [textwrap.fill(c, 18, break_on_hyphens=False) for c in categories]
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("jury accuracy (95% CI, volumes resampled)")
    ax.set_title("Accuracy by spatial category")
    ax.grid(axis="y", alpha=0.3)
    if models:  # below the axes, where it cannot cover a bar
        ax.legend(fontsize=8, ncol=min(6, len(models)), loc="upper center",
                  bbox_to_anchor=(0.5, -0.22), frameon=False)
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
    groups: dict[str, list[int]] = {
        "reference": [_word_count(q.answer) for q in map(qa_item, qa_items)]}
    for pred in map(as_prediction, predictions):
        if pred.status == OK:
            groups.setdefault(entry_of(pred), []).append(_word_count(pred.prediction))
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


def _category_grid(category_rows: Iterable[dict[str, Any]]):
    """(categories in canonical order, models, {(category, model): accuracy})."""
    rows = list(category_rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    present = {r["category"] for r in rows}
    categories = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    return categories, models, {(r["category"], r["model"]): r["accuracy"] for r in rows}


def _short_name(category: str) -> str:
    """The full category name, wrapped to fit under a tick (the report uses full names only)."""
    return textwrap.fill(category, 16)


def plot_category_radar(category_rows: Iterable[dict[str, Any]]):
    """One closed polygon per model over the spatial categories (accuracy 0-1 on the radius).

    An empty category is drawn at 0 with the point left out, so the polygon stays closed but no
    marker claims a result there.
    """
    import numpy as np
    from matplotlib.figure import Figure

    categories, models, accuracy = _category_grid(category_rows)
    fig = Figure(figsize=(6.5, 6.5))
    ax = fig.add_subplot(projection="polar")
    angles = np.linspace(0, 2 * np.pi, max(1, len(categories)), endpoint=False)
    for model in models:
        values = [accuracy.get((c, model), float("nan")) for c in categories]
        shown = [0.0 if v is None or math.isnan(v) else v for v in values]
        ax.plot([*angles, angles[0]], [*shown, shown[0]], linewidth=1.5, label=model)
        ax.fill([*angles, angles[0]], [*shown, shown[0]], alpha=0.08)
    ax.set_xticks(angles)
    # labels wrapped and pushed out from the rim; those at the sides aligned away from the
    # circle, so neighbours do not run into each other or into the polygons
    ax.set_xticklabels([_short_name(c) for c in categories], fontsize=8)
    for label, angle in zip(ax.get_xticklabels(), angles):
        side = np.cos(angle)  # the polar axes start east and turn anticlockwise
        label.set_horizontalalignment("left" if side > 0.1 else "right" if side < -0.1
                                      else "center")
    ax.tick_params(axis="x", pad=10)
    if len(angles) > 1:  # radius labels between two category axes, clear of the polygons' tips
        ax.set_rlabel_position(float(np.degrees(angles[1] / 2)))
    ax.tick_params(axis="y", labelsize=7, labelcolor="grey")
    ax.set_ylim(0, 1)
    ax.set_title("Jury accuracy by spatial category", pad=24)
    if models:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08),
                  ncol=min(4, len(models)), frameon=False)
    fig.tight_layout()
    return fig


def plot_category_heatmap(category_rows: Iterable[dict[str, Any]]):
    """Models x categories, cells coloured and labelled by accuracy; an empty cell is blank."""
    import numpy as np

    categories, models, accuracy = _category_grid(category_rows)
    grid = np.array([[accuracy.get((c, m), np.nan) for c in categories] for m in models],
                    dtype=float).reshape(len(models), len(categories))
    fig, ax = _new_figure(max(6.0, 1.2 * len(categories) + 2), max(2.5, 0.5 * len(models) + 1.5))
    image = ax.imshow(np.ma.masked_invalid(grid), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for i in range(len(models)):
        for j in range(len(categories)):
            if not np.isnan(grid[i, j]):
                colour = "white" if grid[i, j] < 0.6 else "black"
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color=colour)
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels([_short_name(c) for c in categories], fontsize=8)
    ax.set_yticks(range(len(models)))
    ax.set_yticklabels(models, fontsize=9)
    ax.set_title("Jury accuracy: model x spatial category")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def plot_judge_agreement(agreement_rows: Iterable[dict[str, Any]]):
    """Cohen's kappa and raw agreement of each pair of judges (per model when rows carry one)."""
    rows = [r for r in agreement_rows if r.get("n")]
    labels = [(f"{r['model']}: " if r.get("model") else "") + f"{r['judge_a']} vs {r['judge_b']}"
              for r in rows]
    fig, ax = _new_figure(8.0, max(2.2, 0.45 * len(rows) + 1.3))
    ys = range(len(rows))
    kappas = [0.0 if math.isnan(r["kappa"]) else r["kappa"] for r in rows]
    ax.barh([y - 0.2 for y in ys], kappas, height=0.38, label="Cohen's kappa")
    ax.barh([y + 0.2 for y in ys], [r["agreement"] for r in rows], height=0.38,
            label="raw agreement")
    ax.set_yticks(list(ys))
    ax.set_yticklabels([f"{lab} (n={r['n']})" for lab, r in zip(labels, rows)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(min(0.0, *kappas) if kappas else 0.0, 1)
    ax.set_title("Judge agreement")
    ax.grid(axis="x", alpha=0.3)
    if rows:
        ax.legend(fontsize=8, loc="lower right")
    else:  # an empty frame would read as a broken plot
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "Agreement needs two or more judges on the same items; this run had\n"
                "fewer. Add judges under judging.judges (parameters_judging.yml).",
                ha="center", va="center", fontsize=9, transform=ax.transAxes)
    fig.tight_layout()
    return fig
