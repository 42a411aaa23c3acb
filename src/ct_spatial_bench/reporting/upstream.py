"""The report's "Upstream's scoring beside ours" section (``protocol: upstream``)."""

from __future__ import annotations

from collections.abc import Sequence

_NOTE = (
    "<p>Left: CT-SpatialVQA's scoring (avg3: every judge of the jury votes, a failed or missing "
    "vote counts 0, correct when the floored mean is at least 0.66; per judge, correct over its "
    "decided verdicts), comparable with the published table. Right: this project's, over the "
    "items the jury decided (a failed vote is no vote). Both join every vote by (model, qa_id); "
    "upstream's own scripts joined by position, which moved verdicts where a file was shorter. "
    "The category table below is upstream's (every item of a category in the denominator, "
    "percent).</p>")


def upstream_scoring_section(qa_items: list[dict], predictions: list[dict], verdicts: list[dict],
                             judges: Sequence[str] | None = None) -> dict[str, str]:
    """``{title: html}``: upstream's scoring and ours per model, and upstream's category table.
    ``judges`` is the jury (None: every judge that gave verdicts)."""
    import pandas as pd

    from ct_spatial_bench.judges.upstream_scoring import (side_by_side, upstream_category_table,
                                                           upstream_decisions)
    from ct_spatial_bench.reporting.summary import html_table

    jury = list(judges) if judges else sorted({v["judge"] for v in verdicts})
    rows = side_by_side(verdicts, predictions, jury)
    table = upstream_category_table(qa_items, upstream_decisions(verdicts, predictions, jury),
                                    predictions)
    return {"Upstream's scoring beside ours": _NOTE + html_table(pd.DataFrame(rows))
            + html_table(pd.DataFrame(table))}
