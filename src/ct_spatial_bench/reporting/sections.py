"""The report assembled from sections: each stage that has something to show writes its
``report_section_<stage>`` dataset (a list of ``ReportSection`` as JSON Lines), and the report
places them by ``LAYOUT``. A stage that has not run leaves its dataset absent, and its sections
simply do not appear.

A section is data, not code: a title, an HTML fragment built with its data escaped
(``summary.html_table``), where the fragment goes, and figures as base64 PNG shown in the
report's figures block. Nothing here imports the stages that write sections.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# Where a section's HTML goes on the page.
AFTER_LEADERBOARD, BODY = "after_leaderboard", "body"

# The page's order: a section's ``key`` ("<stage>.<what>"); several sections may share a key
# (they keep their stage's order). A key not listed goes after the listed ones of its place.
LAYOUT = (
    # beside the leaderboard
    "probes.does_it_look", "mask_qa.track", "reporting.caveats",
    # the figures block
    "reporting.figures",
    # after the figures: what the jury figure measures, then the details
    "metrics.length", "metrics.slots", "metrics.subsets", "judging.offline_domain",
    "metrics.design_effect", "reproduce.comparison", "probes.details", "reporting.efficiency",
    "reporting.upstream", "reporting.cases", "mask_qa.examples", "reporting.intervals", "reporting.paired",
    "reporting.failures",
)


@dataclass(frozen=True)
class ReportSection:
    """One piece of the report. ``figures``: caption -> base64 PNG (``png_base64``)."""

    key: str
    title: str
    html: str = ""
    place: str = BODY
    figures: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> ReportSection:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row})


def png_base64(figure: Any, dpi: int = 110) -> str:
    """A matplotlib Figure as base64 PNG text (closed afterwards: a report draws many)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def section_rows(key: str, sections: Mapping[str, str], place: str = BODY,
                 figures: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """``{title: html}`` (and figures, on the first) as a stage's rows of one key."""
    encoded = {caption: png_base64(fig) for caption, fig in (figures or {}).items()}
    rows = [ReportSection(key, title, html, place).to_dict() for title, html in sections.items()]
    if encoded:
        if rows:
            rows[0]["figures"] = encoded
        else:
            rows.append(ReportSection(key, "", "", place, encoded).to_dict())
    return rows


def collect(stages: Iterable[Iterable[Mapping[str, Any]] | None]) -> list[ReportSection]:
    """Every stage's rows as sections in ``LAYOUT`` order; a stage that has not run is None."""
    sections = [ReportSection.from_dict(row) for rows in stages if rows for row in rows]
    rank = {key: i for i, key in enumerate(LAYOUT)}
    return sorted(sections, key=lambda s: rank.get(s.key, len(LAYOUT)))


def placed(sections: Iterable[ReportSection | Mapping[str, Any]]
           ) -> tuple[dict[str, str], dict[str, bytes], dict[str, str]]:
    """(after_leaderboard, figures, body) for ``summary.html_report``, from sections in page
    order (or their dicts, as a JSON Lines dataset holds them); a section without a title
    carries figures only."""
    after: dict[str, str] = {}
    figures: dict[str, bytes] = {}
    body: dict[str, str] = {}
    for section in sections:
        if isinstance(section, Mapping):
            section = ReportSection.from_dict(section)
        figures.update({c: base64.b64decode(p) for c, p in section.figures.items()})
        if section.title:
            (after if section.place == AFTER_LEADERBOARD else body)[section.title] = section.html
    return after, figures, body
