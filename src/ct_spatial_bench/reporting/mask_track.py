"""The report's section on the mask-derived track, beside the jury track's leaderboard.

Reads ``mask_qa_summary`` rows (``mask_qa.summary.summarise``): per model, accuracy per family and
category with volume-clustered 95% intervals, "both right" on paired questions and the
flip-consistency of the mirrored twins.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ct_spatial_bench.reporting.summary import html_table

TITLE = "Mask-derived track: exact answers from label maps, no judge"
_INTRO = (
    "<p>Questions computed from segmentation label maps in world millimetres (only where the "
    "margin is clear), each closed question also asked in the opposite polarity; answers read "
    "from the reply's own words (hedged and unreadable replies count as not correct, failed "
    "calls are left out), numbers scored by mean relative accuracy (VSI-Bench, thresholds "
    "0.50-0.95). Brackets: 95% intervals resampling volumes. <em>reference answers</em> scores the "
    "computed answers themselves (1.0 by construction); chance is 0.5 per closed item and 0.25 for "
    "both items of a pair. Flip: share of mirrored twins whose reading changed with the "
    "mirror.</p>")


def _cell(row: dict[str, Any]) -> str:
    return f"{row['accuracy']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}] (n={row['n']})"


def _pivot(rows: list[dict[str, Any]], kinds: tuple[str, ...], label=lambda g: g) -> pd.DataFrame:
    picked = [r for r in rows if r["kind"] in kinds]
    if not picked:
        return pd.DataFrame()
    models = list(dict.fromkeys(r["model"] for r in picked))
    groups = list(dict.fromkeys((r["kind"], r["group"]) for r in picked))
    cells = {(r["model"], r["kind"], r["group"]): _cell(r) for r in picked}
    table = [{"": label(group), **{m: cells.get((m, kind, group), "") for m in models}}
             for kind, group in groups]
    return pd.DataFrame(table)


def mask_track_sections(summary_rows: list[dict[str, Any]] | None) -> dict[str, str]:
    """``{title: html}`` for the report; empty until the mask_qa pipeline has run."""
    if not summary_rows:
        return {}
    headline = _pivot(summary_rows, ("overall", "paired", "flip"))
    families = _pivot(summary_rows, ("family",))
    categories = _pivot(summary_rows, ("category",))  # full names, as the jury track's table
    body = (_INTRO + "<h3>Overall, paired questions and the flip</h3>" + html_table(headline)
            + "<h3>Per family</h3>" + html_table(families)
            + "<h3>Per category</h3>" + html_table(categories))
    return {TITLE: body}
