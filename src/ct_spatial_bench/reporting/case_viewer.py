"""The case viewer: for the items models got wrong, what each model saw beside the question, the
reference and every model's answer and verdict, so a reader sees a case, not only text.

Self-contained: ``case_viewer_html`` takes the records, a volume loader and each model's input
spec (``imaging.specs``) and returns an HTML fragment the report places where it likes. The
image is the model's input made again from the volume by ``apply_spec``: a 3D input's middle
axial slice, a slice-reading model's slices (at most 16, evenly chosen) as a grid. Each is shown
in the radiological convention (the patient's right on the image's left, anterior at the top,
marked R and L), whatever axis order and orientation the spec feeds the model, at most ``size``
pixels wide, as an embedded PNG, so twelve cases add well under a megabyte to the page.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ct_spatial_bench.records import OK, Prediction, as_prediction, entry_of, qa_item

WINDOW_HU = (-1000.0, 400.0)
MAX_TILES = 16  # slices shown of a slice-reading model's input


def radiological_axial(volume_ras: np.ndarray, z: int | None = None) -> np.ndarray:
    """The axial slice ``z`` (default: the middle) of a RAS+ array, as displayed: rows anterior
    (top) to posterior, columns the patient's right (left of the image) to left. Axes after the
    third (RGB) stay last."""
    z = volume_ras.shape[2] // 2 if z is None else z
    plane = volume_ras[::-1, ::-1, z]  # x: +right, y: +anterior in RAS+
    return np.swapaxes(plane, 0, 1)


def _grey(plane: np.ndarray, low: float, high: float) -> np.ndarray:
    scaled = (plane.astype(np.float32) - low) / (high - low) * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _png_uri(shown: Any) -> str:
    buffer = io.BytesIO()
    shown.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _marked(pixels: np.ndarray, width: float, height: float, size: int) -> Any:
    """A PIL image of ``pixels`` (grey or RGB uint8) at ``width`` x ``height`` physical units,
    scaled so its longer side is ``size``, with R and L marked."""
    from PIL import Image, ImageDraw

    scale = size / max(width, height)
    shown = Image.fromarray(pixels).resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
    shown = shown.convert("RGB")
    draw = ImageDraw.Draw(shown)
    draw.text((2, 1), "R", fill=(255, 220, 0))
    draw.text((shown.width - 8, 1), "L", fill=(255, 220, 0))
    return shown


def slice_png(image: Any, size: int = 120, window: tuple[float, float] = WINDOW_HU) -> str:
    """``data:image/png;base64,...`` of the mid axial slice of a nibabel image (physical
    aspect kept from its spacing)."""
    import nibabel as nib

    canonical = nib.as_closest_canonical(image)
    plane = radiological_axial(np.asanyarray(canonical.dataobj))
    zooms = canonical.header.get_zooms()[:2]  # keep the physical aspect (x, y spacing)
    return _png_uri(_marked(_grey(plane, *window), plane.shape[1] * float(zooms[0]),
                            plane.shape[0] * float(zooms[1]), size))


def _spec_window(spec: Any) -> tuple[float, float]:
    """The value range to show: the spec's output range where it maps intensities, else HU."""
    if spec.window is not None:
        return tuple(spec.window_range)
    if spec.normalise is not None:
        return (0.0, 1.0)
    return WINDOW_HU


def _as_ras(array: np.ndarray, spec: Any) -> np.ndarray:
    """A spec's npy output back to RAS+ (x, y, z[, rgb]): undo its axis order, then flip each
    axis that points left, posterior or inferior."""
    permutation = spec.permutation()
    xyz = np.transpose(array, tuple(np.argsort(permutation)) + tuple(range(3, array.ndim)))
    for axis, code in enumerate(spec.orientation.upper()):
        if code in "LPI":
            xyz = np.flip(xyz, axis)
    return xyz


def spec_png(image: Any, spec: Any, size: int = 120) -> tuple[str, str]:
    """(PNG data URI, caption) of what a model reading ``spec`` sees of ``image``: a 3D input's
    middle axial slice, or a grid of the sampled slices (square pixels: an array carries no
    spacing, and the model sees its pixels as they are)."""
    from PIL import Image

    from ct_spatial_bench.imaging.specs import apply_spec

    made = apply_spec(image, spec)
    window = _spec_window(spec)
    if not isinstance(made, np.ndarray):  # a NIfTI output keeps its affine
        return slice_png(made, size, window), f"{spec.name}: axial, middle slice"
    ras = _as_ras(made, spec)
    rgb = spec.rgb_windows is not None

    def plane(z: int) -> np.ndarray:
        cut = radiological_axial(ras, z)
        return np.ascontiguousarray(cut if rgb else _grey(cut, *window))

    depth = ras.shape[2]
    if not spec.slices:
        pixels = plane(depth // 2)
        return (_png_uri(_marked(pixels, pixels.shape[1], pixels.shape[0], size)),
                f"{spec.name}: axial, middle of {depth} slices")
    shown = sorted({int(round(i)) for i in np.linspace(0, depth - 1, min(depth, MAX_TILES))})
    tiles = [plane(z) for z in reversed(shown)]  # superior first, as a reader scrolls down
    columns = int(np.ceil(np.sqrt(len(tiles))))
    tile = max(8, (2 * size) // columns)  # the grid twice the single image's size
    grid = Image.new("RGB", (columns * tile, int(np.ceil(len(tiles) / columns)) * tile))
    for i, pixels in enumerate(tiles):
        cell = _marked(pixels, pixels.shape[1], pixels.shape[0], tile)
        grid.paste(cell, ((i % columns) * tile, (i // columns) * tile))
    return (_png_uri(grid), f"{spec.name}: {len(tiles)} of the {depth} slices it reads, "
                            "top to bottom")


def cases_to_show(decision_rows: Iterable[Mapping[str, Any]], limit: int = 12) -> list[str]:
    """qa_ids decided incorrect for some model: the most models wrong first, then by id."""
    wrong = Counter(r["qa_id"] for r in decision_rows if r.get("decision") == "incorrect")
    return [qa_id for qa_id, _ in sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]


def volume_finder(keys: Iterable[str]) -> Callable[[str], str | None]:
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
                     limit: int = 12, size: int = 120,
                     specs: Mapping[str, Any] | None = None) -> str:
    """One card per case: what each model saw, the question, the reference, each model's answer
    and verdict (joined by (entry, qa_id): ``records.entry_of``, a blind control its own).
    ``volumes``: volume key -> loader (a partitioned dataset's load); a case whose volume is not
    there is shown without an image, saying so.
    ``specs``: entry -> its model's ``InputSpec`` (None: it reads the question only); one image per
    spec among the case's models. Without ``specs``, the stored volume's middle slice."""
    esc = html.escape
    decision_rows = list(decision_rows)
    qa_by_id = {q.qa_id: q for q in map(qa_item, qa_items)}
    answers: dict[str, dict[str, Prediction]] = {}
    for p in map(as_prediction, predictions):
        answers.setdefault(p.qa_id, {})[entry_of(p)] = p
    verdict_of = {(entry_of(r), r["qa_id"]): r.get("decision", "") for r in decision_rows}
    find = volume_finder(volumes or {})
    images: dict[tuple[str, str], tuple[str, str]] = {}

    def image(key: str, spec: Any) -> tuple[str, str]:
        name = spec.name if spec is not None else ""
        if (key, name) not in images:
            images[key, name] = (spec_png(volumes[key](), spec, size) if spec is not None
                                 else (slice_png(volumes[key](), size), "axial, middle slice"))
        return images[key, name]

    cards = []
    for qa_id in cases_to_show(decision_rows, limit):
        item = qa_by_id.get(qa_id)
        if item is None:
            continue
        models = sorted(answers.get(qa_id, {}))
        key = find(str(item.image_path))
        pictures = []
        if key is None:
            pictures.append("<p><em>volume not available to the report</em></p>")
        elif specs is None:
            uri, caption = image(key, None)
            pictures.append(_figure(qa_id, uri, f"{item.case_id}: {caption}"))
        else:
            by_spec: dict[str, list[str]] = {}
            for model in models:
                if specs.get(model) is not None:
                    by_spec.setdefault(specs[model].name, []).append(model)
            for names in by_spec.values():
                uri, caption = image(key, specs[names[0]])
                pictures.append(_figure(qa_id, uri, f"{', '.join(names)} saw {caption}"))
            textual = [m for m in models if specs.get(m) is None]
            if textual:
                pictures.append(f"<p><em>{esc(', '.join(textual))}: no image (the question "
                                "text only)</em></p>")
        rows = "".join(
            f"<tr><td>{esc(model)}</td><td>{esc(str(p.prediction or ''))}"
            f"{'' if p.status == OK else ' [error]'}</td>"
            f"<td>{esc(verdict_of.get((model, qa_id), 'not judged'))}</td></tr>"
            for model, p in sorted(answers.get(qa_id, {}).items()))
        cards.append(
            f'<div class="case"><div class="seen">{"".join(pictures)}</div><div>'
            f"<p><b>{esc(item.question)}</b><br>{esc(str(item.case_id))}, "
            f"reference: {esc(str(item.answer))}</p>"
            "<table><thead><tr><th>model</th><th>answer</th><th>verdict</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div></div>")
    if not cards:
        return "<p>No item was decided incorrect: no case to show.</p>"
    return (CASE_CSS + "<p>Items at least one model got wrong, the most models wrong first. "
            "Each image is what a model saw: its input spec applied to the volume again (a 3D "
            "input's middle axial slice, or the slices a slice-reading model reads), shown with "
            "the patient's right on the image's left and anterior at the top (R, L marked), "
            "HU -1000..400 where the input keeps Hounsfield units.</p>" + "".join(cards))


CASE_CSS = ("<style>div.case{display:flex;gap:1em;align-items:flex-start;margin:1em 0;}"
            "div.case figure{margin:0 0 0.5em 0;} div.case div.seen{flex:0 0 auto;"
            "max-width:40%;} div.case table{margin:0;} div.case figcaption{font-size:0.8em;"
            "max-width:260px;}</style>")


def _figure(alt: str, uri: str, caption: str) -> str:
    esc = html.escape
    return (f'<figure><img class="case" alt="{esc(alt)}" src="{uri}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")
