"""Intensity as a declared spec option: ``minmax``, ``window(lo, hi)``, ``percentile(lo, hi)``,
checked against numpy by hand and MONAI's transforms on the same array."""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.imaging.intensity import intensity_of, parse_intensity
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec


def _image(data):
    import nibabel as nib

    return nib.Nifti1Image(data, np.eye(4))


@pytest.fixture
def hu():
    rng = np.random.default_rng(3)
    return rng.integers(-1024, 2000, size=(9, 8, 7)).astype(np.int16)


def test_declared_forms_set_the_spec_fields():
    assert parse_intensity("minmax") == {"normalise": "minmax"}
    assert parse_intensity("window(-1000, 1000)") == {"window": (-1000.0, 1000.0)}
    assert parse_intensity(" percentile( 0.5 ,99.5 ) ") == {"normalise": "percentile",
                                                          "percentiles": (0.5, 99.5)}
    spec = InputSpec.from_params("m3d", {"intensity": "percentile(0.5, 99.5)", "output": "npy"})
    assert (spec.normalise, spec.percentiles) == ("percentile", (0.5, 99.5))
    assert intensity_of(spec) == "percentile(0.5, 99.5)"
    merlin = InputSpec.from_params("merlin", {"intensity": "window(-1000, 1000)"})
    assert merlin.window == (-1000.0, 1000.0) and intensity_of(merlin) == "window(-1000, 1000)"


@pytest.mark.parametrize("text", ["minmax(0, 1)", "window(5)", "window(10, 5)", "clip(1, 2)",
                                  "percentile(1, 101)", "percentile(a, b)"])
def test_a_wrong_declaration_says_which_spec(text):
    with pytest.raises(ValueError, match="input spec 'm3d'"):
        InputSpec.from_params("m3d", {"intensity": text})


def test_intensity_and_its_fields_together_are_refused():
    with pytest.raises(ValueError, match="both set"):
        InputSpec.from_params("m3d", {"intensity": "minmax", "normalise": "minmax"})


def test_percentile_is_monais_scale_intensity_range_percentiles(hu):
    from monai.transforms import ScaleIntensityRangePercentiles

    spec = InputSpec("p", normalise="percentile", percentiles=(0.5, 99.5), output="npy")
    ours = apply_spec(_image(hu), spec)
    theirs = ScaleIntensityRangePercentiles(0.5, 99.5, b_min=0.0, b_max=1.0, clip=True)(
        hu[None].astype(np.float32))[0]
    np.testing.assert_allclose(ours, np.asarray(theirs), atol=1e-6)
    low, high = np.percentile(hu, [0.5, 99.5])  # by hand
    np.testing.assert_allclose(ours, np.clip((hu - low) / (high - low), 0, 1), atol=1e-6)


def test_window_and_minmax_are_monais(hu):
    from monai.transforms import ScaleIntensity, ScaleIntensityRange

    window = apply_spec(_image(hu), InputSpec.from_params(
        "w", {"intensity": "window(-160, 240)", "output": "npy"}))
    theirs = ScaleIntensityRange(-160, 240, 0.0, 1.0, clip=True)(hu[None].astype(np.float32))[0]
    np.testing.assert_allclose(window, np.asarray(theirs), atol=1e-6)
    minmax = apply_spec(_image(hu), InputSpec.from_params("m", {"intensity": "minmax",
                                                                "output": "npy"}))
    theirs = ScaleIntensity(minv=0.0, maxv=1.0)(hu[None].astype(np.float32))[0]
    np.testing.assert_allclose(minmax, np.asarray(theirs), atol=1e-6)


def test_each_model_declares_its_authors_intensity():
    from pathlib import Path

    import yaml

    specs = yaml.safe_load(Path("conf/base/parameters_preprocessing.yml").read_text())
    declared = {name: InputSpec.from_params(name, params)
                for name, params in specs["preprocessing"]["specs"].items()}
    # M3D's raw-CT path, m3d_refseg_data_prepare.py; Med3DVLM uses M3D's data pipeline
    assert intensity_of(declared["m3d"]) == intensity_of(declared["med3dvlm"]) == (
        "percentile(0.5, 99.5)")
    assert intensity_of(declared["radfm"]) == "minmax"  # radiopaedia.py, its only rule
    assert intensity_of(declared["merlin"]) == "window(-1000, 1000)"
    assert intensity_of(declared["ct_chat"]) == "window(-1000, 1000) -> -1..1"


def test_window_then_minmax_takes_the_extremes_after_the_clip(hu):
    # The volume reaches below -160 and above 240, so after the window clip its extremes are the
    # window's own bounds and min-max leaves the window's 0..1 unchanged (by hand). Extremes
    # taken before the clip (-1024..~2000) would squeeze it into about 0.29..0.42.
    spec = InputSpec("wm", window=(-160.0, 240.0), normalise="minmax", output="npy")
    ours = apply_spec(_image(hu), spec)
    by_hand = (np.clip(hu.astype(np.float64), -160, 240) + 160) / 400
    np.testing.assert_allclose(ours, by_hand, atol=1e-6)
    assert ours.min() == pytest.approx(0.0, abs=1e-6) and ours.max() == pytest.approx(1.0)
    # a volume inside the window: min-max is the volume's own -100..100, (v + 100) / 200
    inside = np.array([[[-100, 0], [50, 100]]] * 2, dtype=np.int16)
    ours = apply_spec(_image(inside), spec)
    np.testing.assert_allclose(ours, (inside + 100) / 200, atol=1e-6)
