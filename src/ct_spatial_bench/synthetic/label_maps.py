"""The phantom's label maps, written beside each volume so the mask-derived track runs offline.

Three maps per case, in the volume's own storage orientation and affine (a reader must go through
the affine, exactly as with a real segmentation):
- ``tissues``: the tissue codes of ``anatomy.py``, with the left kidney recoded
  ``KIDNEY_LEFT`` so that the two kidneys are separate structures, as in TotalSegmentator;
- ``lobes``: the lobe code (1-5, ``anatomy.LOBE_NAMES``) of every pleural-cavity voxel, findings
  inside the lung included (a lobe mask holds what lies in the lobe);
- ``findings``: one code per finding kind (``FINDING_CODES``); a case holds at most one of each.
``mask_qa/tables/phantom.yml`` names every code.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np

from . import anatomy as A
from .phantom import PhantomCase, to_storage_orientation

KIDNEY_LEFT = 20
FINDING_CODES = {
    A.NODULE: 1, A.CONSOLIDATION: 2, A.EFFUSION: 3, A.LYMPH_NODE: 4, A.EMPHYSEMA: 5,
}


def case_label_maps(case: PhantomCase) -> dict[str, nib.Nifti1Image]:
    """``{map name: uint8 NIfTI}`` of one case, stored like its volume."""
    tissues = case.labels.copy()
    x_world = case.affine_ras[0, 3] + case.affine_ras[0, 0] * np.arange(tissues.shape[0])
    left = (x_world < case.anatomy["patient_centre_ras_mm"][0])[:, None, None]
    tissues[(tissues == A.KIDNEY) & left] = KIDNEY_LEFT
    findings = np.zeros_like(tissues)
    for tissue, code in FINDING_CODES.items():
        findings[case.labels == tissue] = code
    maps = {"tissues": tissues, "lobes": case.lobes.astype(np.uint8), "findings": findings}
    return {name: _stored(array, case) for name, array in maps.items()}


def _stored(array_ras: np.ndarray, case: PhantomCase) -> nib.Nifti1Image:
    data, affine = to_storage_orientation(array_ras, case.affine_ras, case.orientation)
    image = nib.Nifti1Image(data.astype(np.uint8), affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
    return image
