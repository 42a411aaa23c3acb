"""The label maps of one volume -> what each structure is, where, and how large, in world mm.

Every position goes through the maps' affine (RAS+: +x the patient's right, +y anterior, +z
superior), so a map stored LPS or with permuted axes measures the same as its RAS twin. All maps of
a volume must share one voxel grid (shape and affine); a volume whose maps do not is refused by
name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .tables import LabelTable, Structure


class LabelMapError(ValueError):
    """Label maps of one volume that cannot be measured together."""


@dataclass
class Measured:
    """One structure present in the volume."""

    structure: Structure
    mask: np.ndarray = field(repr=False)
    world: np.ndarray = field(repr=False)   # (n, 3) world mm of its voxel centres
    volume_ml: float
    box: tuple[slice, ...] = ()              # its bounding box in the voxel grid

    @property
    def key(self) -> str:
        return self.structure.key

    @cached_property
    def centroid(self) -> np.ndarray:
        return self.world.mean(axis=0)

    @cached_property
    def bounds(self) -> np.ndarray:
        """(3, 2) world min and max of its voxel centres along x, y, z (asked of every pair)."""
        return np.stack([self.world.min(axis=0), self.world.max(axis=0)], axis=1)


class VolumeMeasures:
    """Measurements of one volume's structures; ``present`` holds those with voxels."""

    def __init__(self, maps: Mapping[str, Any], table: LabelTable, where: str = "volume",
                 midline_x: float | None = None):
        """``midline_x``: the midline when the caller knows it (a reader with its own landmarks);
        otherwise the centroid x of the table's midline structures."""
        images = dict(maps)
        first = next(iter(images.values()))
        self.affine = np.asarray(first.affine, float)
        self.shape = tuple(first.shape[:3])
        for name, image in images.items():
            if tuple(image.shape[:3]) != self.shape or not np.allclose(image.affine, self.affine,
                                                                        atol=1e-3):
                raise LabelMapError(f"{where}: map {name!r} is on another grid than the others")
        self.spacing = np.sqrt((self.affine[:3, :3] ** 2).sum(axis=0))
        self.voxel_ml = float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0
        arrays = {name: np.asanyarray(image.dataobj) for name, image in images.items()}
        boxes = {name: _value_boxes(array) for name, array in arrays.items()}
        self.table = table
        self.present: dict[str, Measured] = {}
        for s in table.structures.values():
            if not s.maps <= set(arrays):
                continue
            parts = [(name, v, boxes[name][v]) for name, values in s.masks for v in values
                     if v in boxes[name]]
            if not parts:
                continue
            lo = np.min([[b.start for b in box] for _, _, box in parts], axis=0)
            hi = np.max([[b.stop for b in box] for _, _, box in parts], axis=0)
            box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
            mask = np.zeros(self.shape, bool)
            for name, value, _ in parts:
                mask[box] |= arrays[name][box] == value
            ijk = np.argwhere(mask[box]) + lo
            world = ijk @ self.affine[:3, :3].T + self.affine[:3, 3]
            self.present[s.key] = Measured(s, mask, world, float(len(ijk)) * self.voxel_ml, box)
        if midline_x is not None:
            self.midline_x = float(midline_x)
            return
        missing = [k for k in table.midline if k not in self.present]
        if len(missing) == len(table.midline):
            raise LabelMapError(f"{where}: none of the midline structures {list(table.midline)}")
        self.midline_x = float(np.mean([self.present[k].centroid[0] for k in table.midline
                                        if k in self.present]))

    @cached_property
    def carina_z(self) -> float | None:
        """World z of the lowest voxel centre of the carina structure (the tracheal bifurcation)."""
        ref = self.present.get(self.table.carina or "")
        return None if ref is None else float(ref.world[:, 2].min())

    def right_share(self, m: Measured) -> float:
        """Share of the structure's voxels right of the midline plane."""
        return float((m.world[:, 0] > self.midline_x).mean())

    def lobe_shares(self, m: Measured) -> dict[str, float]:
        """Share of the structure's voxels inside each lobe, among those inside any lobe."""
        counts = {k: int((m.mask[m.box] & lobe.mask[m.box]).sum())
                  for k, lobe in self.present.items() if lobe.structure.kind == "lobe"}
        total = sum(counts.values())
        return {k: c / total for k, c in counts.items()} if total else {}

    def lobe_coverage(self, m: Measured) -> float:
        """Share of the structure's voxels that lie in some lobe."""
        inside = np.zeros(m.mask[m.box].shape, bool)
        for lobe in self.present.values():
            if lobe.structure.kind == "lobe":
                inside |= lobe.mask[m.box]
        return float((m.mask[m.box] & inside).sum() / len(m.world))

    def gap_mm(self, a: Measured, b: Measured, reach_mm: float) -> float:
        """Smallest distance (mm) between voxel centres of ``a`` and ``b`` (0 when they overlap);
        ``inf`` when it exceeds ``reach_mm`` (only a box that far around ``a`` is searched)."""
        from scipy import ndimage as ndi

        pad = np.ceil(reach_mm / self.spacing).astype(int) + 1
        lo = np.maximum([b.start for b in a.box] - pad, 0)
        hi = np.minimum([b.stop for b in a.box] + pad, self.shape)
        box = tuple(slice(int(x), int(y)) for x, y in zip(lo, hi))
        target = b.mask[box]
        if not target.any():
            return float("inf")
        if (a.mask[box] & target).any():
            return 0.0
        dist = ndi.distance_transform_edt(~target, sampling=self.spacing)
        gap = float(dist[a.mask[box]].min())
        return gap if gap <= reach_mm else float("inf")

    def largest_diameter_mm(self, m: Measured) -> float:
        """The farthest pair of voxel centres plus one voxel of the finest spacing: a one-voxel
        finding measures one voxel, and a digitised ball of diameter d (the voxels whose centres
        lie within d/2) measures between d - (coarsest - finest spacing) and d + finest."""
        points = _hull_points(m.world)
        diff = points[:, None, :] - points[None, :, :]
        return float(np.sqrt((diff ** 2).sum(axis=-1)).max()) + float(self.spacing.min())


def _value_boxes(array: np.ndarray) -> dict[int, tuple[slice, ...]]:
    """Bounding box of every non-zero value of an integer label map, in one pass."""
    from scipy import ndimage as ndi

    labels = np.asarray(array)
    if labels.dtype.kind not in "iu":
        labels = np.rint(labels).astype(np.int32)
    if labels.min() < 0:
        raise LabelMapError("a label map holds negative values")
    return {v + 1: box for v, box in enumerate(ndi.find_objects(labels)) if box is not None}


def _hull_points(points: np.ndarray) -> np.ndarray:
    """The convex hull's vertices (the farthest pair lies among them), or all points when few."""
    if len(points) < 5:
        return points
    from scipy.spatial import ConvexHull, QhullError

    try:
        return points[ConvexHull(points).vertices]
    except QhullError:  # flat: all points in a plane or a line
        return points


def measure_volume(load_map: Callable[[str], Any], available: set[str], table: LabelTable,
                   where: str) -> VolumeMeasures:
    """Measure one volume from the maps the table uses that it has (``load_map(name)``)."""
    wanted = sorted(table.maps & available)
    if not wanted:
        raise LabelMapError(f"{where}: none of the table's maps {sorted(table.maps)}")
    return VolumeMeasures({name: load_map(name) for name in wanted}, table, where)
