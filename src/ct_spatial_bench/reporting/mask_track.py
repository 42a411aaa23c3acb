"""The report's section on the mask-derived track, beside the jury track's leaderboard.

Reads ``mask_qa_summary`` rows (``mask_qa.summary.summarise``): per model, accuracy per family and
category with volume-clustered 95% intervals, "both right" on paired questions and the
flip-consistency of the mirrored twins.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ct_spatial_bench.records import QAItem
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


EXAMPLES_TITLE = "Mask-derived track: examples"
SUBJECT_RGB, REFERENCE_RGB = (255, 60, 60), (0, 200, 255)


def _outline(mask: Any) -> Any:
    """The pixels of a 2D boolean mask with a 4-neighbour outside it."""
    import numpy as np

    padded = np.pad(mask, 1)
    inner = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return mask & ~inner


def outline_png(volume: Any, masks: list[tuple[Any, Any]], size: int = 120) -> str | None:
    """The axial slice through the middle of the first mask's extent, -1000..400 HU, in the
    radiological convention, each mask's outline drawn in its colour. ``masks``: (boolean
    Nifti image, RGB); None where the masks lie on another grid than the volume."""
    import nibabel as nib
    import numpy as np
    from PIL import Image

    from ct_spatial_bench.reporting.case_viewer import (
        WINDOW_HU, _grey, _marked, _png_uri, radiological_axial,
    )

    ct = nib.as_closest_canonical(volume)
    canonical = [(nib.as_closest_canonical(m), rgb) for m, rgb in masks]
    if any(m.shape[:3] != ct.shape[:3] or not np.allclose(m.affine, ct.affine, atol=1e-3)
           for m, _ in canonical):
        return None
    first = np.asanyarray(canonical[0][0].dataobj) > 0
    zs = np.flatnonzero(first.any(axis=(0, 1)))
    z = int((zs.min() + zs.max()) // 2) if zs.size else ct.shape[2] // 2
    plane = radiological_axial(np.asanyarray(ct.dataobj), z)
    zooms = ct.header.get_zooms()[:2]
    shown = _marked(_grey(plane, *WINDOW_HU), plane.shape[1] * float(zooms[0]),
                    plane.shape[0] * float(zooms[1]), size)
    pixels = np.asarray(shown).copy()
    for image, rgb in canonical:
        cut = radiological_axial(np.asanyarray(image.dataobj) > 0, z).astype(np.uint8) * 255
        resized = np.asarray(Image.fromarray(cut).resize(shown.size, Image.NEAREST)) > 0
        pixels[_outline(resized)] = rgb
    return _png_uri(Image.fromarray(pixels))


def examples_to_show(items: list[QAItem], score_rows: list[dict[str, Any]],
                     limit: int = 6) -> list[QAItem]:
    """Asked (not mirrored) items some model did not get right, the most models first."""
    missed = {}
    for r in score_rows:
        if r["model"] != "reference answers" and r["outcome"] not in ("correct", "failed"):
            missed[r["qa_id"]] = missed.get(r["qa_id"], 0) + 1
    asked = [i for i in items if not i.meta.get("mirrored") and i.qa_id in missed]
    return sorted(asked, key=lambda i: (-missed[i.qa_id], i.qa_id))[:limit]


def mask_examples_html(items: list[QAItem], score_rows: list[dict[str, Any]],
                       picture, limit: int = 6) -> dict[str, str]:
    """``{title: html}``: for each example, the slice through the finding with its outline
    (``picture(item)``: a PNG data URI or None), the question, the computed answer and every
    model's answer, how it was read and its outcome."""
    import html as markup

    esc = markup.escape
    cards = []
    for item in examples_to_show(items, score_rows, limit):
        uri = picture(item)
        meta = item.meta
        caption = (f"{meta['subject']} outlined in red"
                   + (f", {meta['reference']} in blue where it crosses this slice"
                      if meta.get("reference") else "")
                   + "; axial slice through the middle of the subject")
        figure = (f'<figure><img class="case" alt="{esc(item.qa_id)}" src="{uri}">'
                  f"<figcaption>{esc(caption)}</figcaption></figure>" if uri else
                  "<p><em>volume or label map not available to the report</em></p>")
        rows = "".join(
            f"<tr><td>{esc(r['model'])}</td><td>{esc(str(r.get('prediction') or ''))}</td>"
            f"<td>{esc(str(r.get('read') if r.get('read') is not None else ''))}</td>"
            f"<td>{esc(r['outcome'])}</td></tr>"
            for r in score_rows if r["qa_id"] == item.qa_id
            and r["model"] != "reference answers")
        cards.append(
            f'<div class="case"><div class="seen">{figure}</div><div>'
            f"<p><b>{esc(item.question)}</b><br>{esc(item.case_id)}, computed answer: "
            f"{esc(str(item.answer))}</p><table><thead><tr><th>model</th><th>answer</th>"
            f"<th>read as</th><th>outcome</th></tr></thead><tbody>{rows}</tbody></table>"
            "</div></div>")
    if not cards:
        return {}
    from ct_spatial_bench.reporting.case_viewer import CASE_CSS

    return {EXAMPLES_TITLE: CASE_CSS + "<p>Questions some model did not get right, the most "
            "models first: the axial slice through the middle of the structure asked about, "
            "its outline from the label map (red; the reference structure blue), the patient's "
            "right on the image's left.</p>" + "".join(cards)}
