"""Nodes that turn each unique volume into every input format the selected models ask for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def preprocess_volumes(
    qa_items: list[dict[str, Any]],
    raw_volumes: dict[str, Callable[[], Any]],
    params: dict[str, Any],
    spec_names: tuple[str, ...],
) -> tuple:
    """Decode each volume the benchmark asks about once and apply every spec to it.

    Returns one ``{volume_key: output}`` dict per spec, in ``spec_names`` order, then a manifest
    row per volume (source orientation, shape, spacing, and an error where it could not be read).
    A missing or unreadable volume is logged and recorded; the other volumes go on.
    """
    from tqdm.auto import tqdm

    from ct_spatial_bench.imaging.orientation import axis_codes, voxel_spacing
    from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
    from ct_spatial_bench.records import volume_key

    specs = [InputSpec.from_params(name, params["specs"][name]) for name in spec_names]
    prefix = params.get("volume_path_prefix", "")
    keys = sorted({volume_key(item["image_path"], prefix) for item in qa_items})
    outputs: dict[str, dict[str, Any]] = {spec.name: {} for spec in specs}
    manifest = []
    for key in tqdm(keys, desc="preprocessing", leave=False):
        row: dict[str, Any] = {"volume_key": key, "status": "ok", "error": None}
        try:
            if key not in raw_volumes:
                raise FileNotFoundError(f"no volume {key!r} under the raw volume folder")
            image = raw_volumes[key]()
            row.update(source_orientation=axis_codes(image), source_shape=list(image.shape[:3]),
                       source_spacing=list(voxel_spacing(image)))
            for spec in specs:
                outputs[spec.name][key] = apply_spec(image, spec)
        except Exception as exc:  # noqa: BLE001 - one bad volume must not end the run
            row.update(status="error", error=f"{type(exc).__name__}: {exc}")
            logger.error("preprocessing %s: %s", key, row["error"])
        manifest.append(row)
    failed = sum(r["status"] == "error" for r in manifest)
    logger.info("preprocessing: %d volumes, %d failed, specs %s", len(keys), failed, spec_names)
    return (*[outputs[name] for name in spec_names], manifest)
