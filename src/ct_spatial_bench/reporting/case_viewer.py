"""The case viewer: for the items models got wrong, a small image of the CT beside the question,
the reference and every model's answer and verdict, so a reader sees a case, not only text.

Self-contained: ``case_viewer_html`` takes the records and a volume loader and returns an HTML
fragment the report places where it likes. The image is the axial slice through the middle of
the volume, reoriented to RAS from its header (what a model reading the header sees), windowed
to -1000..400 HU and shown in the radiological convention (the patient's right on the image's
left, anterior at the top, marked R and L), at most ``size`` pixels wide, as an embedded PNG,
so twelve cases add well under a megabyte to the page.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

WINDOW_HU = (-1000.0, 400.0)


def radiological_axial(volume_ras: np.ndarray, z: int | None = None) -> np.ndarray:
    """The axial slice ``z`` (default: the middle) of a RAS+ array, as displayed: rows anterior
    (top) to posterior, columns the patient's right (left of the image) to left."""
    z = volume_ras.shape[2] // 2 if z is None else z
    return volume_ras[::-1, ::-1, z].T  # x: +right, y: +anterior in RAS+


def slice_png(image: Any, size: int = 120) -> str:
    """``data:image/png;base64,...`` of the mid axial slice of a nibabel image."""
    import nibabel as nib
    from PIL import Image, ImageDraw

    canonical = nib.as_closest_canonical(image)
    data = np.asanyarray(canonical.dataobj)
    plane = radiological_axial(data).astype(np.float32)
    low, high = WINDOW_HU
    grey = np.clip((plane - low) / (high - low) * 255.0, 0, 255).astype(np.uint8)
    zooms = canonical.header.get_zooms()[:2]  # keep the physical aspect (x, y spacing)
    width, height = grey.shape[1] * float(zooms[0]), grey.shape[0] * float(zooms[1])
    scale = size / max(width, height)
    shown = Image.fromarray(grey).resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
    shown = shown.convert("RGB")
    draw = ImageDraw.Draw(shown)
    draw.text((2, 1), "R", fill=(255, 220, 0))
    draw.text((shown.width - 8, 1), "L", fill=(255, 220, 0))
    buffer = io.BytesIO()
    shown.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def cases_to_show(decision_rows: Iterable[Mapping[str, Any]], limit: int = 12) -> list[str]:
    """qa_ids decided incorrect for some model: the most models wrong first, then by id."""
    wrong = Counter(r["qa_id"] for r in decision_rows if r.get("decision") == "incorrect")
    return [qa_id for qa_id, _ in sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]


def _volume_finder(keys: Iterable[str]) -> Callable[[str], str | None]:
    """image_path -> the volume folder's key: the same relative path, or the same file name."""
    from ct_spatial_bench.records import volume_key

    keys = list(keys)
    by_name = {key.rsplit("/", 1)[-1]: key for key in keys}
    known = set(keys)

    def find(image_path: str) -> str | None:
        key = volume_key(image_path)
        return key if key in known else by_name.get(key.rsplit("/", 1)[-1])
    return find


def case_viewer_html(qa_items: Iterable[Mapping[str, Any]],
                     predictions: Iterable[Mapping[str, Any]],
                     decision_rows: Iterable[Mapping[str, Any]],
                     volumes: Mapping[str, Callable[[], Any]] | None,
                     limit: int = 12, size: int = 120) -> str:
    """One card per case: the slice, the question, the reference, each model's answer and
    verdict (joined by (model, qa_id)). ``volumes``: volume key -> loader (a partitioned
    dataset's load); a case whose volume is not there is shown without an image, saying so."""
    esc = html.escape
    decision_rows = list(decision_rows)
    qa_by_id = {q["qa_id"]: q for q in qa_items}
    answers: dict[str, dict[str, Mapping[str, Any]]] = {}
    for p in predictions:
        answers.setdefault(p["qa_id"], {})[p["model"]] = p
    verdict_of = {(r["model"], r["qa_id"]): r.get("decision", "") for r in decision_rows}
    find = _volume_finder(volumes or {})
    images: dict[str, str] = {}
    cards = []
    for qa_id in cases_to_show(decision_rows, limit):
        item = qa_by_id.get(qa_id)
        if item is None:
            continue
        key = find(str(item.get("image_path", "")))
        if key is not None and key not in images:
            images[key] = slice_png(volumes[key](), size)
        picture = (f'<img class="case" alt="{esc(qa_id)}" src="{images[key]}">' if key
                   else "<p><em>volume not available to the report</em></p>")
        rows = "".join(
            f"<tr><td>{esc(model)}</td><td>{esc(str(p.get('prediction') or ''))}"
            f"{'' if p.get('status', 'ok') == 'ok' else ' [error]'}</td>"
            f"<td>{esc(verdict_of.get((model, qa_id), 'not judged'))}</td></tr>"
            for model, p in sorted(answers.get(qa_id, {}).items()))
        cards.append(
            f'<div class="case"><figure>{picture}<figcaption>{esc(str(item.get("case_id", "")))}'
            "<br>axial, middle slice</figcaption></figure><div>"
            f"<p><b>{esc(item['question'])}</b><br>reference: {esc(str(item['answer']))}</p>"
            "<table><thead><tr><th>model</th><th>answer</th><th>verdict</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div></div>")
    if not cards:
        return "<p>No item was decided incorrect: no case to show.</p>"
    return ("<style>div.case{display:flex;gap:1em;align-items:flex-start;margin:1em 0;}"
            "div.case figure{margin:0;flex:0 0 auto;} div.case table{margin:0;}</style>"
            "<p>Items at least one model got wrong, the most models wrong first. The image is "
            "the volume's middle axial slice, reoriented to RAS from its header, -1000..400 HU, "
            "the patient's right on the image's left (R, L marked).</p>" + "".join(cards))
