"""The geometry baseline: answers spatial questions by segmenting the CT with thresholds.

Why it exists: it brackets the scale from above on the synthetic split. It reads only the image
(RAS+, Hounsfield units) and the question text, never the findings, reports or reference answers,
so a high score shows the questions are answerable from the pixels and that the orientation
handling upstream is right; a vision-language model can then be judged against it.

How: body and lungs by HU thresholds and connected components; each lung's side from the world x
of its centroid against the spine (patient-space, through the affine); lobes as the components of
lung air left after removing the visible fissures (fissures are denser than lung); findings as soft
tissue enclosed by lung (nodules), or as smoothed-HU classes touching lung air (fluid: effusion,
~20 HU: consolidation), and mediastinal soft-tissue blobs (nodes). Positions are described with
the same measures the generator uses (``synthetic.measures``: run fractions across the lung, gap
to the pleura, height against the carina), and answered in the templates' wording.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base import ModelInput

THRESHOLDS: dict[str, Any] = {
    "body_hu": -500, "air_hu": -400, "bone_hu": 200, "fissure_hu": (-750, -450),
    "emphysema_hu": -950,
    "lung_min_ml": 200.0, "lobe_min_ml": 10.0, "nodule_min_ml": 0.05, "nodule_min_hu": 25.0,
    "fluid_hu": (2.0, 15.0), "consolidation_hu": (15.0, 25.0), "node_hu": (28.0, 45.0),
    "effusion_min_ml": 5.0, "consolidation_min_ml": 3.0, "node_ml": (0.1, 40.0),
    "subpleural_gap_mm": 7.0, "emphysema_fraction": 0.005, "lobe_share": 0.15,
}
UNKNOWN = "Unknown"
LOBE_NAMES = {1: "Right upper lobe", 2: "Right middle lobe", 3: "Right lower lobe",
              4: "Left upper lobe", 5: "Left lower lobe"}


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


def _fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage as ndi

    out = mask.copy()
    for k in range(mask.shape[2]):
        if mask[:, :, k].any():
            out[:, :, k] = ndi.binary_fill_holes(mask[:, :, k])
    return out


class _Segmenter:
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
                      spacing=self.spacing)
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


def _contact_lobes(scene: Scene, mask: np.ndarray, share: float) -> list[int]:
    """Lobes whose air touches ``mask`` (6-neighbours), keeping those with >= ``share`` of it."""
    from scipy import ndimage as ndi

    shell = ndi.binary_dilation(mask) & ~mask
    codes = scene.lobes[shell]
    codes = codes[codes > 0]
    if codes.size == 0:
        return []
    values, counts = np.unique(codes, return_counts=True)
    return sorted(int(v) for v, c in zip(values, counts) if c / counts.sum() >= share)


def _lobe_text(codes: list[int]) -> str:
    if not codes:
        return UNKNOWN
    text = " and ".join(LOBE_NAMES[c].lower() for c in sorted(codes))
    return text[0].upper() + text[1:]


def _run_fraction_at(mask: np.ndarray, ijk, axis: int) -> float:
    """Relative position of voxel ``ijk`` along its run of ``mask`` on ``axis`` (run_fraction)."""
    from ct_spatial_bench.synthetic.measures import run_fraction

    index = [int(round(v)) for v in ijk]
    line = tuple(slice(None) if d == axis else slice(index[d], index[d] + 1) for d in range(3))
    frac = run_fraction(mask[line], axis=axis).ravel()
    value = frac[index[axis]]
    return float(value) if np.isfinite(value) else 0.5


def _largest(blobs: list[Blob]) -> Blob | None:
    return max(blobs, key=lambda b: b.volume_ml) if blobs else None


def _nearest_cm(diameter_mm: float) -> int:
    return int(np.floor(diameter_mm / 10.0 + 0.5))


class _Answerer:
    """Answers each template's question about one :class:`Scene`, in the templates' words."""

    def __init__(self, scene: Scene, thresholds: dict[str, Any]):
        self.scene, self.t = scene, thresholds

    def level(self, blob: Blob | None) -> str:
        if blob is None or self.scene.carina_z is None:
            return UNKNOWN
        return "Above" if blob.centroid_world[2] > self.scene.carina_z else "Below"

    # nodule questions -------------------------------------------------------------------------
    def nodule_lung_side(self, nodule: Blob) -> str:
        return f"{nodule.side} lung"

    def nodule_lobe(self, nodule: Blob) -> str:
        """The lobe whose air surrounds the nodule (most of its 6-neighbour contacts)."""
        codes = self.scene.lobes[self._shell(nodule.mask)]
        codes = codes[codes > 0]
        return LOBE_NAMES[int(np.bincount(codes).argmax())] if codes.size else UNKNOWN

    def nodule_depth(self, nodule: Blob) -> str:
        lung = self.scene.lungs[nodule.side]
        frac = _run_fraction_at(lung, nodule.centroid_ijk, axis=1)  # axis 1 runs P -> A (RAS)
        return "Anterior" if frac >= 0.5 else "Posterior"

    def nodule_centricity(self, nodule: Blob) -> str:
        lung = self.scene.lungs[nodule.side]
        frac = _run_fraction_at(lung, nodule.centroid_ijk, axis=0)  # axis 0 runs L -> R (RAS)
        lateral = frac if nodule.side == "Right" else 1.0 - frac
        if lateral < 0.5:
            return "Central"
        return "Subpleural" if self._pleural_gap(nodule.mask, lung) <= \
            self.t["subpleural_gap_mm"] else "Peripheral"

    def nodule_size(self, nodule: Blob) -> str:
        diameter = (6.0 * nodule.volume_ml * 1000.0 / np.pi) ** (1.0 / 3.0)
        return f"{_nearest_cm(diameter)} cm"

    def nodule_carina_level(self, nodule: Blob) -> str:
        return self.level(nodule)

    def nodule_attenuation(self, nodule: Blob) -> str:
        return "Solid" if nodule.mean_hu > -100 else "Ground-glass"

    # other findings ----------------------------------------------------------------------------
    def effusion_side(self) -> str:
        sides = {b.side for b in self.scene.effusions}
        if not sides:
            return "None"
        return "Bilateral" if len(sides) == 2 else sides.pop()

    def consolidation_lobes(self) -> str:
        blob = _largest(self.scene.consolidations)
        if blob is None:
            return UNKNOWN
        return _lobe_text(_contact_lobes(self.scene, blob.mask, self.t["lobe_share"]))

    def consolidation_crosses_fissure(self) -> str:
        blob = _largest(self.scene.consolidations)
        if blob is None:
            return UNKNOWN
        return "Yes" if len(_contact_lobes(self.scene, blob.mask, self.t["lobe_share"])) > 1 \
            else "No"

    def node_station(self) -> str:
        node = _largest(self.scene.nodes)
        if node is None or self.scene.carina_z is None:
            return UNKNOWN
        x = node.centroid_world[0]
        if node.centroid_world[2] > self.scene.carina_z:
            ref = self.scene.trachea_x if self.scene.trachea_x is not None else self.scene.midline_x
            return ("Right" if x > ref else "Left") + " paratracheal"
        return ("Right" if x > self.scene.midline_x else "Left") + " hilar"

    def node_carina_level(self) -> str:
        return self.level(_largest(self.scene.nodes))

    def emphysema_presence(self) -> str:
        return "Yes" if self.scene.emphysema_fraction > self.t["emphysema_fraction"] else "No"

    def pericardial_effusion_presence(self) -> str:
        return "No"  # the baseline does not segment the pericardium; the phantoms have none

    # helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _shell(mask: np.ndarray) -> np.ndarray:
        from scipy import ndimage as ndi

        return ndi.binary_dilation(mask) & ~mask

    def _pleural_gap(self, mask: np.ndarray, lung: np.ndarray) -> float:
        """Smallest distance (mm) from the finding to a voxel outside the filled lung."""
        from scipy import ndimage as ndi

        reach = [int(np.ceil(self.t["subpleural_gap_mm"] * 2 / s)) + 1 for s in self.scene.spacing]
        idx = np.argwhere(mask)
        lo = np.maximum(idx.min(axis=0) - reach, 0)
        hi = np.minimum(idx.max(axis=0) + reach + 1, mask.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        inside = lung[box]
        if inside.all():
            return float("inf")
        dist = ndi.distance_transform_edt(inside, sampling=self.scene.spacing)
        return float(dist[mask[box]].min())


NODULE_TEMPLATES = ("nodule_lung_side", "nodule_lobe", "nodule_depth", "nodule_centricity",
                    "nodule_size", "nodule_carina_level", "nodule_attenuation")


class GeometryBaseline:
    """Model adapter: HU thresholds + connected components + patient-space geometry."""

    name = "geometry"
    input_spec = "ras_hu"

    def __init__(self) -> None:
        self.thresholds = dict(THRESHOLDS)
        self._scenes: OrderedDict[str, Scene] = OrderedDict()

    def load(self, config: dict[str, Any] | None = None) -> None:
        """Nothing to load; ``config['thresholds']`` may override any threshold."""
        self.thresholds.update((config or {}).get("thresholds", {}) or {})
        self._scenes.clear()

    def describe(self) -> dict[str, Any]:
        return {"model_revision": "geometry-v1",
                "generation": {"method": "hu-thresholds+components", **self.thresholds}}

    def answer(self, batch: list[ModelInput]) -> list[str]:
        return [self.answer_one(item.question, item.image) for item in batch]

    def answer_one(self, question: str, image: Any) -> str:
        from ct_spatial_bench.synthetic.questions import TEMPLATES

        template_id = next((tid for tid, tpl in TEMPLATES.items()
                            if tpl.pattern.match(question or "")), None)
        if template_id is None or image is None:
            return UNKNOWN
        answerer = _Answerer(self.scene_of(image), self.thresholds)
        if template_id in NODULE_TEMPLATES:
            nodule = _largest(answerer.scene.nodules)
            return getattr(answerer, template_id)(nodule) if nodule else "No nodule seen"
        return getattr(answerer, template_id)()

    def scene_of(self, image: Any) -> Scene:
        """Segment ``image`` once; later questions on the same volume reuse the scene."""
        import nibabel as nib

        if tuple(nib.aff2axcodes(image.affine)) != ("R", "A", "S"):
            image = nib.as_closest_canonical(image)
        hu = np.asarray(image.dataobj, dtype=np.float32)
        key = hashlib.sha1(hu.tobytes() + np.asarray(image.affine).tobytes()).hexdigest()
        if key not in self._scenes:
            self._scenes[key] = _Segmenter(hu, np.asarray(image.affine, float),
                                           self.thresholds).run()
            while len(self._scenes) > 4:
                self._scenes.popitem(last=False)
        self._scenes.move_to_end(key)
        return self._scenes[key]
