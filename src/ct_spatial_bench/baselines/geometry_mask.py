"""The geometry baseline's answers to the mask track's questions.

What it segments (findings, lobes, lungs, the spine's midline, the carina; no other organ) is
written as label maps and measured with the very code that computes the ground truth
(``mask_qa.measure`` and ``mask_qa.questions``, margins at zero), so its answers differ from the
reference only where its segmentation does. A question about a structure it does not segment
(the heart, the liver, ...) gets "Unknown", which scoring reads as unreadable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ct_spatial_bench.mask_qa.questions import FORMS, Skips, volume_questions
from ct_spatial_bench.mask_qa.tables import load_label_table

from .geometry_scene import Scene

# Everything asked, whatever the margin: the baseline commits to an answer.
NO_MARGINS = {"side_share": 0.5, "lobe_share": 0.5, "order_mm": 0.0, "adjacency_mm": 0.0,
              "spanned_mm": 0.0, "size_ratio_min": 1.0}
_FINDING_CODES = {"nodules": 1, "consolidations": 2, "effusions": 3, "nodes": 4}
_OPENINGS = tuple({form.split("{")[0] for forms in FORMS.values() for form in forms})


def is_mask_question(question: str) -> bool:
    return str(question or "").startswith(_OPENINGS)


def scene_label_maps(scene: Scene) -> dict[str, Any]:
    """The scene as the phantom's ``lobes`` and ``findings`` maps (RAS, the scene's affine).

    The scene's lobes are lung air; a finding's voxels take the code of their nearest lobe, as a
    lobe mask holds what lies in the lobe."""
    import nibabel as nib
    from scipy import ndimage as ndi

    findings = np.zeros(scene.lobes.shape, np.uint8)
    for attribute, code in _FINDING_CODES.items():
        blobs = getattr(scene, attribute)
        if attribute != "effusions" and blobs:
            blobs = [max(blobs, key=lambda b: b.volume_ml)]  # as the templates' reader does
        for blob in blobs:
            findings[blob.mask] = code
    lobes = scene.lobes.astype(np.uint8)
    in_lung = (findings > 0) & (scene.lungs["Right"] | scene.lungs["Left"] | (findings == 3))
    if in_lung.any() and lobes.any():
        box = ndi.find_objects(((lobes > 0) | in_lung).astype(np.uint8))[0]
        sub = lobes[box]
        nearest = ndi.distance_transform_edt(sub == 0, sampling=scene.spacing,
                                             return_distances=False, return_indices=True)
        inside = in_lung[box]
        sub[inside] = sub[tuple(axis[inside] for axis in nearest)]
    return {name: nib.Nifti1Image(array, scene.affine)
            for name, array in (("lobes", lobes), ("findings", findings))}


def mask_answers(scene: Scene) -> dict[str, str]:
    """Question text -> the baseline's answer, for every mask question its scene can answer."""
    from ct_spatial_bench.mask_qa.measure import VolumeMeasures

    if scene.affine is None:
        return {}
    table = load_label_table("phantom")  # its lobe and finding nouns are the questions' nouns
    measured = VolumeMeasures(scene_label_maps(scene), table, "geometry scene",
                              midline_x=scene.midline_x)
    if scene.carina_z is not None:
        measured.__dict__["carina_z"] = scene.carina_z  # the scene's own landmark
    case = {"case_id": "scene", "image_path": ""}
    items = volume_questions(case, measured, NO_MARGINS, Skips(), every_lobe=True,
                             clinical=False)
    return {item.question: item.answer for item in items}
