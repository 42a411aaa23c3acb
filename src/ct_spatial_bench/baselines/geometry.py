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

from ct_spatial_bench.models.cards import ModelCard
import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from .geometry_scene import THRESHOLDS, Blob, Scene, Segmenter

UNKNOWN = "Unknown"
LOBE_NAMES = {1: "Right upper lobe", 2: "Right middle lobe", 3: "Right lower lobe",
              4: "Left upper lobe", 5: "Left lower lobe"}


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


class GeometryBaseline(ModelAdapter):
    """Model adapter: HU thresholds + connected components + patient-space geometry."""

    name = "geometry"
    baseline = True
    input_spec = "ras_hu"
    description = ("Segments the volume by HU thresholds and connected components and answers "
                   "from positions in patient space. The ceiling on the synthetic split.")
    card = ModelCard(
        title="geometry baseline", weights="-", source="- (this project)",
        prompt="none: answers from HU-threshold segments in patient millimetres",
        decoding="-", slice_order="- (the whole RAS volume)", trained_on_ct_rate=False,
        status="the ceiling on the synthetic split")

    def __init__(self) -> None:
        self.thresholds = dict(THRESHOLDS)
        self._scenes: OrderedDict[str, Scene] = OrderedDict()
        # The last image object seen and its scene key: a volume's questions share their image
        # object, so its scene is found without hashing the whole volume again.
        self._last: tuple[Any, str] | None = None
        self._mask_answers: dict[str, dict[str, str]] = {}

    def load(self, config: dict[str, Any] | None = None) -> None:
        """Nothing to load; ``config['thresholds']`` may override any threshold."""
        self.thresholds.update((config or {}).get("thresholds", {}) or {})
        self._scenes.clear()
        self._last = None

    def describe(self) -> dict[str, Any]:
        return {"model_revision": "geometry-v1",
                "generation": {"method": "hu-thresholds+components", **self.thresholds}}

    def answer_one(self, image: Any, question: Question) -> Answer:
        return Answer(self.answer_text(question.text, image), prompt=question.text)

    def answer_text(self, question: str, image: Any) -> str:
        from ct_spatial_bench.synthetic.questions import TEMPLATES

        template_id = next((tid for tid, tpl in TEMPLATES.items()
                            if tpl.pattern.match(question or "")), None)
        if image is None:
            return UNKNOWN
        if template_id is None:
            return self._mask_answer(question, image)
        answerer = _Answerer(self.scene_of(image), self.thresholds)
        if template_id in NODULE_TEMPLATES:
            nodule = _largest(answerer.scene.nodules)
            return getattr(answerer, template_id)(nodule) if nodule else "No nodule seen"
        return getattr(answerer, template_id)()

    def _mask_answer(self, question: str, image: Any) -> str:
        """A question of the mask track, answered from the scene measured as label maps."""
        from .geometry_mask import is_mask_question, mask_answers

        if not is_mask_question(question):
            return UNKNOWN
        scene = self.scene_of(image)
        key = self._last[1]
        if key not in self._mask_answers:
            self._mask_answers = {key: mask_answers(scene)}  # one volume's questions at a time
        return self._mask_answers[key].get(question, UNKNOWN)

    def scene_of(self, image: Any) -> Scene:
        """Segment ``image`` once; later questions on the same volume reuse the scene."""
        import nibabel as nib

        if self._last is not None and self._last[0] is image and self._last[1] in self._scenes:
            self._scenes.move_to_end(self._last[1])
            return self._scenes[self._last[1]]
        original = image
        if tuple(nib.aff2axcodes(image.affine)) != ("R", "A", "S"):
            image = nib.as_closest_canonical(image)
        hu = np.asarray(image.dataobj, dtype=np.float32)
        key = hashlib.sha1(hu.tobytes() + np.asarray(image.affine).tobytes()).hexdigest()
        if key not in self._scenes:
            self._scenes[key] = Segmenter(hu, np.asarray(image.affine, float),
                                           self.thresholds).run()
            while len(self._scenes) > 4:
                self._scenes.popitem(last=False)
        self._scenes.move_to_end(key)
        self._last = (original, key)
        return self._scenes[key]
