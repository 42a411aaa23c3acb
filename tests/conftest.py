"""Shared test helpers: small NIfTI volumes made in the tests, never downloaded."""

from __future__ import annotations

import os

import numpy as np
import pytest

# The shared fixtures (fake servers and the clients aimed at them): tests/support/.
pytest_plugins = ("support.fixtures",)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(autouse=True)
def _keys_known_to_this_test_only():
    """Keys a test registers (``secrets.register_secret``) are forgotten after it: a short test
    key must not blank a word in the next test's texts."""
    from ct_spatial_bench import secrets

    stores = [getattr(secrets, name) for name in ("_registered", "_variables")
              if hasattr(secrets, name)]
    saved = [set(store) for store in stores]
    yield
    for store, before in zip(stores, saved):
        store.clear()
        store.update(before)


@pytest.fixture
def ras_volume():
    """A 12x10x8 int16 RAS volume at 1.5x1.5x3 mm with a bright block on the patient's right."""
    import nibabel as nib

    data = np.full((12, 10, 8), -1000, dtype=np.int16)
    data[8:11, 4:6, 3:5] = 40  # high x = patient's right in RAS+
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    affine[:3, 3] = [-9.0, -7.5, -12.0]
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    return image

