"""Slice order across adapters: each adapter's input spec (conf/base) delivers the slices in the
order its card declares ("inferior first" / "superior first"). A RAS volume with a bright block in
its top (superior) slices goes through each spec; the slice axis is found from the spec's axis
order, and the bright end must be where the card says."""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class


def _declared():
    import yaml

    specs = yaml.safe_load(open("conf/base/parameters_preprocessing.yml"))["preprocessing"]["specs"]
    for name, entry in MODEL_REGISTRY.items():
        order = adapter_class(name).card.slice_order.split(" (")[0]
        if entry.input_spec and order in ("inferior first", "superior first",
                                          "inferior first along D"):
            yield pytest.param(name, InputSpec.from_params(entry.input_spec,
                                                           specs[entry.input_spec]),
                               order.startswith("superior"), id=name)


def superior_marked_volume():
    import nibabel as nib

    data = np.full((24, 24, 24), -800, dtype=np.int16)
    data[6:18, 6:18, 18:23] = 300  # high z: superior in RAS+
    data[6:18, 6:18, 1:6] = -100  # a dimmer block inferiorly: a foreground crop keeps both
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    return image


@pytest.mark.parametrize("name,spec,superior_first", list(_declared()))
def test_slices_arrive_in_the_declared_order(name, spec, superior_first):
    out = apply_spec(superior_marked_volume(), spec)
    array = np.asarray(out.dataobj if hasattr(out, "dataobj") else out, dtype=np.float64)
    if array.ndim == 4:  # RGB slices: (slices, rows, columns, 3)
        array = array.mean(axis=-1)
    axis = spec.axis_order.index("z") if spec.output != "nifti" else 2
    means = np.moveaxis(array, axis, 0).reshape(array.shape[axis], -1).mean(axis=1)
    brightest = int(np.argmax(means))
    if superior_first:
        assert brightest < len(means) / 2, (name, means.round(2))
    else:
        assert brightest >= len(means) / 2, (name, means.round(2))
