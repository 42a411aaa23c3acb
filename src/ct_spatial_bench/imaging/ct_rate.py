"""CT-RATE volumes: spacing and HU rescale from the metadata CSV, only where the header lacks them.

CT-RATE ships its volumes with a metadata CSV (``validation_metadata.csv``) holding, per
``VolumeName``, ``XYSpacing`` (a string such as ``"[0.341796875, 0.341796875]"``), ``ZSpacing``,
``RescaleSlope`` and ``RescaleIntercept``. The first release's NIfTI headers lacked them (unit
voxel size, raw stored values); the ``valid_fixed`` volumes carry them in the header. So each is
taken from the metadata only when the header does not carry it, and a volume is never rescaled
twice:

* spacing: the header's (from the affine) unless it is the unit default (1, 1, 1);
* rescale: the header's ``scl_slope``/``scl_inter`` when set to anything but the identity
  (nibabel applies them on read); otherwise the metadata's, unless the stored values are already
  HU (air at about -1000 in a volume whose metadata intercept is negative: adding the intercept
  again would be a second rescale).
"""

from __future__ import annotations

import ast
import csv
import logging
import math
import os
import re
from typing import Any

logger = logging.getLogger(__name__)

# Stored values at or below this are HU already (air is -1000 HU; raw CT values start at 0).
STORED_HU_AIR = -500.0
_UNIT_TOLERANCE = 1e-6
_NAME = re.compile(
    r"^(?P<split>[a-z]+)_(?P<patient>\d+)_(?P<scan>[a-z]+)_(?P<rec>\d+)\.nii(\.gz)?$")


def ct_rate_relative_path(volume_name: str) -> str:
    """``valid_1_a_1.nii.gz`` -> ``valid_1/valid_1_a/valid_1_a_1.nii.gz`` (CT-RATE's layout)."""
    match = _NAME.match(os.path.basename(volume_name))
    if not match:
        raise ValueError(f"{volume_name!r} is not a CT-RATE volume name (e.g. valid_1_a_1.nii.gz)")
    patient = f"{match['split']}_{match['patient']}"
    return f"{patient}/{patient}_{match['scan']}/{os.path.basename(volume_name)}"


def parse_spacing(value: Any) -> list[float]:
    """Spacing from a number, a list, or CT-RATE's string form ``"[0.34, 0.34]"``."""
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, str):
        value = ast.literal_eval(value.strip())
        if isinstance(value, (int, float)):
            return [float(value)]
    values = [float(v) for v in value]
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise ValueError(f"invalid spacing {value!r}")
    return values


def load_ct_rate_metadata(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``{VolumeName: {spacing: (x, y, z), slope, intercept}}`` from CT-RATE's metadata CSV.

    A row with an unreadable value raises naming the file, the line and the column.
    """
    out: dict[str, dict[str, Any]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            name = (row.get("VolumeName") or "").strip()
            if not name:
                raise ValueError(f"{path}:{line}: no VolumeName")
            column = "XYSpacing"
            try:
                xy = parse_spacing(row["XYSpacing"])
                xy = xy * 2 if len(xy) == 1 else xy
                column = "ZSpacing"
                z = parse_spacing(row["ZSpacing"])[0]
                column = "RescaleSlope"
                slope = float(row.get("RescaleSlope") or 1)
                column = "RescaleIntercept"
                intercept = float(row.get("RescaleIntercept") or 0)
            except (KeyError, ValueError, SyntaxError, TypeError) as exc:
                raise ValueError(f"{path}:{line} ({name}): bad {column}: {exc}") from exc
            out[name] = {"spacing": (xy[0], xy[1], z), "slope": slope, "intercept": intercept}
    return out


def header_rescale(image: Any) -> tuple[float, float] | None:
    """The header's (slope, intercept), or None when it sets no scaling.

    nibabel moves a loaded file's ``scl_slope``/``scl_inter`` onto the array proxy and reads an
    unset (NaN) pair as (1, 0), so (1, 0) counts as "none": the stored values are then either
    HU already or raw, which :func:`apply_ct_rate_metadata` tells apart.
    """
    proxy = image.dataobj
    if hasattr(proxy, "slope"):
        slope, inter = proxy.slope, proxy.inter
    else:
        slope, inter = image.header.get_slope_inter()
    slope = 1.0 if slope is None or not math.isfinite(slope) or slope == 0 else float(slope)
    inter = 0.0 if inter is None or not math.isfinite(inter) else float(inter)
    return None if (slope, inter) == (1.0, 0.0) else (slope, inter)


def header_has_spacing(image: Any) -> bool:
    """False when every voxel axis is the unit default length (a header that was never set)."""
    from ct_spatial_bench.imaging.orientation import voxel_spacing

    return any(abs(s - 1.0) > _UNIT_TOLERANCE for s in voxel_spacing(image))


def _with_spacing(affine: Any, spacing: tuple[float, float, float]) -> Any:
    """``affine`` with each voxel axis rescaled to ``spacing``, keeping directions and origin."""
    import numpy as np

    out = np.array(affine, dtype=float)
    norms = np.sqrt((out[:3, :3] ** 2).sum(axis=0))
    out[:3, :3] = out[:3, :3] / norms * np.asarray(spacing, dtype=float)
    return out


def apply_ct_rate_metadata(image: Any, metadata: dict[str, Any] | None) -> tuple[Any, dict]:
    """``image`` with spacing and HU rescale from ``metadata`` where the header lacks them.

    Returns ``(image, provenance)`` where provenance says where spacing and rescale came from
    (``header``, ``metadata``, ``stored_hu`` or ``none``). Without metadata the image is
    returned as is. The returned image's voxels are HU with no header scaling left to apply.
    """
    import nibabel as nib
    import numpy as np

    provenance = {"spacing_from": "header", "rescale_from": "header"}
    if metadata is None:
        provenance.update(spacing_from="header", rescale_from="header" if header_rescale(image)
                          else "none")
        return image, provenance
    affine = np.array(image.affine, dtype=float)
    if not header_has_spacing(image):
        affine = _with_spacing(affine, metadata["spacing"])
        provenance["spacing_from"] = "metadata"
    if header_rescale(image) is not None:
        data = np.asanyarray(image.dataobj)  # nibabel applies the header's scaling once
    else:
        stored = np.asanyarray(image.dataobj.get_unscaled()
                               if hasattr(image.dataobj, "get_unscaled") else image.dataobj)
        already_hu = metadata["intercept"] < 0 and float(stored.min()) <= STORED_HU_AIR
        if already_hu:
            data, provenance["rescale_from"] = stored, "stored_hu"
        else:
            data = stored * metadata["slope"] + metadata["intercept"]
            provenance["rescale_from"] = "metadata"
    if np.all(np.mod(data, 1) == 0) and data.min() >= -32768 and data.max() <= 32767:
        data = data.astype(np.int16)  # HU are whole numbers: keep the volume small
    header = image.header.copy()
    header.set_data_dtype(data.dtype)
    header.set_slope_inter(1.0, 0.0)
    out = nib.Nifti1Image(np.asarray(data), affine, header)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out, provenance
