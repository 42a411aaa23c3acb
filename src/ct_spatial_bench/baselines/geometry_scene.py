"""Segmentation for the geometry baseline: a CT in RAS+ Hounsfield units -> a :class:`Scene`.

Body, lungs, airways and carina, lobes (lung air split by the visible fissures), nodules, fluid,
consolidation and mediastinal nodes, by HU thresholds and connected components; every position in
patient millimetres through the affine. ``geometry.py`` answers questions from the scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

THRESHOLDS: dict[str, Any] = {
    "body_hu": -500, "air_hu": -400, "bone_hu": 200, "fissure_hu": (-750, -450),
    "emphysema_hu": -950,
    "lung_min_ml": 200.0, "lobe_min_ml": 10.0, "nodule_min_ml": 0.05, "nodule_min_hu": 25.0,
    "fluid_hu": (2.0, 15.0), "consolidation_hu": (15.0, 25.0), "node_hu": (28.0, 45.0),
    "effusion_min_ml": 5.0, "consolidation_min_ml": 3.0, "node_ml": (0.1, 40.0),
    "subpleural_gap_mm": 7.0, "emphysema_fraction": 0.005, "lobe_share": 0.15,
}


@dataclass
class Blob:
    """One segmented object: its voxel mask, centroid (voxel and world mm), size and side."""

    mask: np.ndarray
    centroid_ijk: np.ndarray
    centroid_world: np.ndarray
    volume_ml: float
    mean_hu: float
    side: str


@dataclass
class Scene:
    """What the baseline sees in one volume."""

    midline_x: float
    carina_z: float | None
    trachea_x: float | None
    lungs: dict[str, np.ndarray]          # side -> filled lung (air + what it encloses)
    lobes: np.ndarray                      # lobe code per lung-air voxel, 0 elsewhere
    nodules: list[Blob] = field(default_factory=list)
    consolidations: list[Blob] = field(default_factory=list)
    effusions: list[Blob] = field(default_factory=list)
    nodes: list[Blob] = field(default_factory=list)
    emphysema_fraction: float = 0.0
    spacing: tuple = (1.0, 1.0, 1.0)
    affine: np.ndarray | None = None       # voxel -> world mm of the (RAS) arrays above


def _fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage as ndi

    out = mask.copy()
    for k in range(mask.shape[2]):
        if mask[:, :, k].any():
            out[:, :, k] = ndi.binary_fill_holes(mask[:, :, k])
    return out


class Segmenter:
    """Segments one RAS+ HU volume into a :class:`Scene`."""

    def __init__(self, hu: np.ndarray, affine: np.ndarray, thresholds: dict[str, Any]):
        from scipy import ndimage as ndi

        self.ndi, self.affine, self.t = ndi, affine, thresholds
        self.hu = hu.astype(np.float32, copy=False)
        self.spacing = tuple(float(v) for v in np.sqrt((affine[:3, :3] ** 2).sum(axis=0)))
        self.voxel_ml = float(np.prod(self.spacing)) / 1000.0

    def world(self, ijk) -> np.ndarray:
        return self.affine[:3, :3] @ np.asarray(ijk, float) + self.affine[:3, 3]

    def blob(self, mask: np.ndarray, midline_x: float) -> Blob:
        ijk = np.argwhere(mask).mean(axis=0)
        world = self.world(ijk)
        return Blob(mask, ijk, world, float(mask.sum() * self.voxel_ml),
                    float(self.hu[mask].mean()), "Right" if world[0] > midline_x else "Left")

    def components(self, mask: np.ndarray, min_ml: float = 0.0, max_ml: float = np.inf):
        lab, n = self.ndi.label(mask)
        if n == 0:
            return []
        sizes = np.bincount(lab.ravel()) * self.voxel_ml
        return [lab == i for i in range(1, n + 1) if min_ml <= sizes[i] <= max_ml]

    def run(self) -> Scene:
        body, midline_x = self.body_and_midline()
        lung_air, carina_z, trachea_x = self.airways(body, midline_x)
        # 3D hole filling only: filled slice by slice, a diaphragm dome ringed by lung would count.
        lungs = {s: self.ndi.binary_fill_holes(m) for s, m in lung_air.items()}
        scene = Scene(midline_x, carina_z, trachea_x, lungs, self.lobes(lung_air),
                      spacing=self.spacing, affine=self.affine)
        all_air = lung_air["Right"] | lung_air["Left"]
        if all_air.any():
            scene.emphysema_fraction = float((self.hu[all_air] < self.t["emphysema_hu"]).mean())
        scene.nodules = self.nodules(lungs, lung_air, midline_x)
        smooth = self.ndi.uniform_filter(self.hu, 3)  # noise SD / 5: HU classes separate
        scene.effusions = self.lung_bordering(smooth, body, all_air, "fluid_hu",
                                              self.t["effusion_min_ml"], midline_x)
        scene.consolidations = self.lung_bordering(smooth, body, all_air, "consolidation_hu",
                                                   self.t["consolidation_min_ml"], midline_x)
        scene.nodes = self.mediastinal_nodes(smooth, body, lungs, carina_z, midline_x)
        return scene

    def body_and_midline(self) -> tuple[np.ndarray, float]:
        """The body (largest non-air part, holes filled) and the midline: the spine's world x."""
        parts = self.components(self.hu > self.t["body_hu"])
        body = max(parts, key=np.sum) if parts else np.ones(self.hu.shape, bool)
        body = _fill_holes_per_slice(body)
        bone = self.components(self.hu > self.t["bone_hu"])
        spine = max(bone, key=np.sum) if bone else body
        return body, float(self.world(np.argwhere(spine).mean(axis=0))[0])

    def airways(self, body: np.ndarray, midline_x: float):
        """Lung air per side (big air components, side by world x) and the trachea's carina."""
        lab, n = self.ndi.label((self.hu < self.t["air_hu"]) & body)
        sizes = np.bincount(lab.ravel()) * self.voxel_ml
        lung_air = {"Right": np.zeros(self.hu.shape, bool), "Left": np.zeros(self.hu.shape, bool)}
        trachea, best = None, -np.inf
        for i in range(1, n + 1):
            part = lab == i
            centre = self.world(np.argwhere(part).mean(axis=0))
            if sizes[i] >= self.t["lung_min_ml"]:
                lung_air["Right" if centre[0] > midline_x else "Left"] |= part
            elif sizes[i] >= 2.0:  # the trachea: a tall air tube near the midline
                height = np.ptp(np.nonzero(part.any(axis=(0, 1)))[0])
                score = height - abs(centre[0] - midline_x)
                if score > best:
                    trachea, best = part, score
        if trachea is None:
            return lung_air, None, None
        voxels = np.argwhere(trachea)
        carina_z = float(self.world(voxels[np.argmin(voxels[:, 2])])[2])
        return lung_air, carina_z, float(self.world(voxels.mean(axis=0))[0])

    def nodules(self, lungs, lung_air, midline_x) -> list[Blob]:
        """Solid tissue enclosed by a lung's air."""
        found = []
        for side, filled in lungs.items():
            for part in self.components(filled & ~lung_air[side], self.t["nodule_min_ml"]):
                blob = self.blob(part, midline_x)
                if blob.mean_hu >= self.t["nodule_min_hu"]:
                    blob.side = side
                    found.append(blob)
        return found

    def lung_bordering(self, smooth, body, all_air, hu_key, min_ml, midline_x) -> list[Blob]:
        """Regions of one smoothed-HU class that touch lung air (fluid, consolidation).

        The opening drops the thin shells that smoothing leaves at every tissue interface; the
        region is then grown back by two voxels into non-air tissue to recover its true border.
        """
        ndi = self.ndi
        lo, hi = self.t[hu_key]
        near_lung = ndi.binary_dilation(all_air, iterations=2)
        cls = ndi.binary_opening((smooth >= lo) & (smooth <= hi) & body, np.ones((3, 3, 3), bool))
        found = []
        for part in self.components(cls, min_ml):
            if (part & near_lung).any():
                region = (self.hu > -300) & ndi.binary_dilation(part, iterations=2)
                found.append(self.blob(region, midline_x))
        return found

    def mediastinal_nodes(self, smooth, body, lungs, carina_z, midline_x) -> list[Blob]:
        """Node-sized soft-tissue blobs outside the lungs, near or above the hila."""
        ndi = self.ndi
        lo, hi = self.t["node_hu"]
        outside = ~ndi.binary_dilation(lungs["Right"] | lungs["Left"], iterations=1)
        cls = ndi.binary_opening((smooth >= lo) & (smooth <= hi) & body & outside,
                                 np.ones((3, 3, 3), bool))
        found = []
        for part in self.components(cls, *self.t["node_ml"]):
            blob = self.blob(part, midline_x)
            if carina_z is None or blob.centroid_world[2] > carina_z - 80.0:
                found.append(blob)
        return found

    def lobes(self, lung_air: dict[str, np.ndarray]) -> np.ndarray:
        """Lobes as the components of lung air split by the fissures, named by position."""
        lo, hi = self.t["fissure_hu"]
        fissure = (self.hu > lo) & (self.hu < hi)
        out = np.zeros(self.hu.shape, np.int8)
        for side, air in lung_air.items():
            parts = self.components(air & ~fissure, self.t["lobe_min_ml"])
            if not parts:
                continue
            cents = [self.world(np.argwhere(p).mean(axis=0)) for p in parts]
            order = sorted(range(len(parts)), key=lambda i: -cents[i][2])  # highest first
            if side == "Right":
                upper = order[0]
                rest = sorted(order[1:], key=lambda i: -cents[i][1])  # most anterior first
                names = {upper: 1}
                if len(rest) >= 2:
                    names.update({rest[0]: 2, rest[1]: 3})
                elif rest:
                    names[rest[0]] = 3
            else:
                by_score = sorted(range(len(parts)), key=lambda i: -(cents[i][2] + cents[i][1]))
                names = {by_score[0]: 4}
                if len(by_score) > 1:
                    names[by_score[1]] = 5
            for i, code in names.items():
                out[parts[i]] = code
        return out
