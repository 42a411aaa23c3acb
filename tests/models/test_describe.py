"""The models README's table is ``python -m ct_spatial_bench.models describe``'s output, and it
states every deviation the adapter review found (issue 13)."""

import subprocess
import sys

import pytest

from ct_spatial_bench.models.describe import models_table, readme_section
from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class


def test_readme_table_is_the_generated_one():
    assert readme_section() == models_table(), (
        "src/ct_spatial_bench/models/README.md drifted from the code: run "
        "python -m ct_spatial_bench.models describe --write")


def test_the_command_prints_it():
    out = subprocess.run([sys.executable, "-m", "ct_spatial_bench.models", "describe"],
                         capture_output=True, text=True, check=True).stdout
    assert out == models_table()


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_each_adapter_declares_its_own_card(name):
    cls = adapter_class(name)
    assert "card" in vars(cls), f"{cls.__name__} inherits its card: declare its own"


def _row(table, name):
    [row] = [line for line in table.splitlines() if line.startswith(f"| `{name}` ")]
    return row


def test_every_known_deviation_is_stated():
    table = models_table()
    for name in ("m3d", "med3dvlm"):  # the augmentation caveat for laterality
        assert "RandFlip" in _row(table, name) and "RandRotate90" in _row(table, name)
    assert "--do_sample" in _row(table, "med3dvlm")
    medgemma = _row(table, "medgemma")
    assert "the notebook allows 2000" in medgemma and "use_fast" in medgemma
    assert "eval_vqa.py loads float32" in _row(table, "m3d")
    assert "the demo runs float16" in _row(table, "merlin")
    slice_orders = {"m3d": "inferior first", "med3dvlm": "inferior first",
                    "radfm": "inferior first", "medgemma": "superior first",
                    "lingshu": "superior first"}
    for name, order in slice_orders.items():
        assert order in _row(table, name)
    assert "**yes**" in _row(table, "ct_chat")  # trained on CT-RATE
    assert "| MedM-VL-CT-Chest |" in table and "| OmniCT |" in table
