"""The two things a person reads: a short Markdown summary and one self-contained HTML page.

Both take the tables of ``reporting.tables``. Every string that comes from data (model, judge and
category names, run information) is escaped, since a model name or a path is not trusted markup.
The HTML page needs no network and no JavaScript: figures are embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd



def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def _md_cell(value: Any) -> str:
    """Table-safe and markup-safe: Markdown renderers pass raw HTML through."""
    return html.escape(_fmt(value), quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _accuracy_with_ci(row: Mapping[str, Any]) -> str:
    acc = _fmt(row.get("accuracy"))
    low, high = _fmt(row.get("accuracy_ci_low")), _fmt(row.get("accuracy_ci_high"))
    return f"{acc} [{low}, {high}]" if acc and low and high else acc


def _model_columns(category_df: pd.DataFrame) -> list[str]:
    return [c for c in category_df.columns if c not in ("category", "n")]


def best_and_worst_categories(category_df: pd.DataFrame) -> list[dict[str, Any]]:
    """Per model, the category with the highest and the lowest accuracy (empty ones skipped)."""
    rows = []
    for model in _model_columns(category_df):
        scores = category_df.set_index("category")[model].dropna()
        if scores.empty:
            continue
        rows.append({"model": model, "best": scores.idxmax(), "best_accuracy": scores.max(),
                     "worst": scores.idxmin(), "worst_accuracy": scores.min(),
                     "best_all": [c for c, v in scores.items() if v == scores.max()],
                     "worst_all": [c for c, v in scores.items() if v == scores.min()],
                     "n_categories": len(scores)})
    return rows


def extremes_sentence(row: Mapping[str, Any]) -> str:
    """"best X (a), worst Y (b)", or what is true when there is no best and worst to tell apart
    (one category judged, every category equal, ties)."""
    def names(categories: list[str]) -> str:
        return ", ".join(_short(c) for c in categories)

    if row["n_categories"] == 1:
        return f"only {names(row['best_all'])} judged ({_fmt(row['best_accuracy'])})"
    if row["best_accuracy"] == row["worst_accuracy"]:
        return f"the same accuracy ({_fmt(row['best_accuracy'])}) in all {row['n_categories']} " \
               "judged categories"
    return (f"best {names(row['best_all'])} ({_fmt(row['best_accuracy'])}), "
            f"worst {names(row['worst_all'])} ({_fmt(row['worst_accuracy'])})")


def _short(category: str) -> str:
    """The category's full name (the upstream paper's), as every table and plot shows it."""
    return category


LEADERBOARD_VIEW = {
    "model": "model", "accuracy [95% CI]": None, "n_judged": "judged", "n_failed": "judge failed",
    "n_errors": "model errors", "n_missing": "missing", "bleu": "BLEU", "rougeL_f": "ROUGE-L",
    "sbert_cosine": "SBERT",
}


def _leaderboard_view(leaderboard_df: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's columns a reader needs, with the accuracy and its interval in one cell."""
    records = leaderboard_df.to_dict("records")
    view = {}
    for column, title in LEADERBOARD_VIEW.items():
        if title is None:
            view[column] = [_accuracy_with_ci(r) for r in records]
        elif column in leaderboard_df.columns:
            view[title] = leaderboard_df[column].tolist()
    return pd.DataFrame(view)


def summary_markdown(
    leaderboard_df: pd.DataFrame, category_df: pd.DataFrame, run_info: Mapping[str, Any]
) -> str:
    """What was run, the leaderboard with intervals, each model's best and worst category, the
    failure counts, and where the files are. ``run_info`` is shown key by key; an ``outputs``
    entry (a mapping name -> path) becomes the file list."""
    info = dict(run_info)
    outputs = info.pop("outputs", None) or {}
    lines = ["# CT spatial VQA benchmark: summary", "", "## What was run", ""]
    lines += [f"- **{_md_cell(k)}**: {_md_cell(_join(v))}" for k, v in info.items()]
    lines += ["", "## Leaderboard (jury accuracy, 95% bootstrap CI resampling volumes)", "",
              _md_table(_leaderboard_view(leaderboard_df)), ""]
    extremes = best_and_worst_categories(category_df)
    if extremes:
        lines += ["## Best and worst spatial category per model", ""]
        for row in extremes:
            lines.append(f"- {_md_cell(row['model'])}: {_md_cell(extremes_sentence(row))}")
        lines.append("")
    lines += ["## Failures", ""]
    for row in leaderboard_df.to_dict("records"):
        lines.append(
            f"- {_md_cell(row['model'])}: model errors {_count(row.get('n_errors'))} "
            f"(outside accuracy), undecided by the judges {_count(row.get('n_failed'))}, "
            f"without a prediction {_count(row.get('n_missing'))}"
        )
    if outputs:
        lines += ["", "## Files", ""]
        lines += [f"- {_md_cell(name)}: `{_md_cell(path)}`" for name, path in outputs.items()]
    return "\n".join(lines) + "\n"


def _count(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return str(int(value))


def _join(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return str(value)


def html_table(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table, every cell escaped."""
    return _html_table(frame)


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


BLEU_COLUMNS = ("bleu", "BLEU")


def bleu_on_unit_scale(frame: pd.DataFrame) -> pd.DataFrame:
    """BLEU (sacrebleu: 0-100) divided by 100, so every text metric in the report is on 0-1."""
    frame = frame.copy()
    for column in BLEU_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce") / 100.0
    return frame


def _png_base64(figure: Any) -> str:
    """A Figure rendered to PNG, a PNG file read from its path, or PNG bytes, as base64 text."""
    if isinstance(figure, bytes):
        data = figure
    elif isinstance(figure, (str, os.PathLike)):
        with open(figure, "rb") as handle:
            data = handle.read()
    else:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        data = buffer.getvalue()
    return base64.b64encode(data).decode("ascii")


_CSS = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
table { max-width: 100%; }  /* wide tables wrap, never run off the page: headers break anywhere
   (p_clustered_holm), cells only inside words too long for the page */
th { overflow-wrap: anywhere; } td { overflow-wrap: break-word; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1.5em 0; } img { max-width: 100%; }
dt { font-weight: bold; } dd { margin: 0 0 0.4em 1.5em; }
details { margin: 0.3em 0 0.3em 1em; } summary { cursor: pointer; font-weight: bold; }
table.failures td { text-align: left; vertical-align: top; max-width: 22em; }
"""


def html_report(
    leaderboard_df: pd.DataFrame,
    category_df: pd.DataFrame,
    text_metrics_df: pd.DataFrame,
    figures: Mapping[str, Any],
    run_info: Mapping[str, Any],
    sections: Mapping[str, str] | None = None,
    after_leaderboard: Mapping[str, str] | None = None,
    category_note: str = "",
) -> str:
    """One HTML page: run information, leaderboard, category table, text metrics, figures.

    ``figures`` maps a caption to a matplotlib Figure, PNG bytes or the path of a PNG file; each is
    embedded as base64 so the page is a single file that can be mailed or archived.
    ``sections`` maps a heading to an HTML fragment placed after the figures; fragments must be
    built with their data escaped (``reporting.failures``, ``html_table``);
    ``after_leaderboard`` likewise, placed right after the leaderboard.
    """
    esc = html.escape
    info = "".join(f"<dt>{esc(str(k))}</dt><dd>{esc(_join(v))}</dd>" for k, v in run_info.items())
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>CT spatial VQA benchmark report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>CT spatial VQA benchmark report</h1>",
        "<h2>What was run</h2>", f"<dl>{info}</dl>",
        "<h2>Leaderboard</h2>",
        "<p>Jury accuracy with its 95% percentile-bootstrap interval (volumes resampled, all "
        "of a CT's questions together). Model errors (a failed model call), items the judges "
        "could not decide and items without a prediction are outside the denominator; each is "
        "counted in its own column. Text metrics on 0-1 (BLEU divided by 100).</p>",
        _html_table(bleu_on_unit_scale(_leaderboard_view(leaderboard_df))),
        # the probes' "does it look?" table sits beside the leaderboard
        *[part for title, fragment in (after_leaderboard or {}).items()
          for part in (f"<h2>{esc(str(title))}</h2>", fragment)],
        "<h2>Accuracy by spatial category</h2>",
        f"<p>{esc(category_note)}</p>" if category_note else "", _html_table(category_df),
        "<h2>Text metrics</h2>",
        "<p>Over non-empty predictions only, as upstream computes them. Every text metric is on "
        "0-1 here: BLEU, which sacrebleu reports on 0-100, is divided by 100 (the CSV files keep "
        "sacrebleu's scale).</p>",
        _html_table(bleu_on_unit_scale(text_metrics_df)),
    ]
    if figures:
        parts.append("<h2>Figures</h2>")
    for caption, figure in figures.items():
        parts.append(
            f'<figure><img alt="{esc(str(caption))}" src="data:image/png;base64,'
            f'{_png_base64(figure)}"><figcaption>{esc(str(caption))}</figcaption></figure>'
        )
    for title, fragment in (sections or {}).items():
        parts += [f"<h2>{esc(str(title))}</h2>", fragment]
    parts.append("</body></html>")
    return "\n".join(parts)
