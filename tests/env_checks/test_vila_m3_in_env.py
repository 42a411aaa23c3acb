"""VILA-M3 in its own environment (``env check vila_m3``): the adapter's default loader
(``vila_m3_loader.load_vila_m3``) through the worker, under the pinned transformers, MONAI and
scikit-image, asked one question that makes the model call VISTA3D.

What is the authors' code and what is a stand-in: VILA's ``llava`` package is not on PyPI and
the framework checkout cannot be fetched here, so the ``llava`` modules are the stand-ins of
tests/support/vila_m3_standins.py (VILA@355fda9's module layout and call signatures, a model
that replies with scripted text). The expert is the real ``monai.bundle.create_workflow`` of the
pinned MONAI on a small bundle config (VISTA3D's inference cut down: every voxel above 0 HU gets
the last id of its label prompt), and the overlay is the pinned scikit-image's ``label2rgb``.
Expected by hand from the demo (m3/demo/gradio_m3.py): the first turn is the model cards,
``<image>``, "This is a CT image.\\n" and the question; the reply ``<VISTA3D(lung tumor)>``
prompts the bundle with that group's ids (20, 23, 29), the last of which (29, "left lung lower
lobe") labels the bright block on the middle slice, coloured red (the first colour); the expert
turn names it; the second reply is the answer, the stop string cut."""

from __future__ import annotations

import json

import pytest
from test_in_env import ENV_MODEL, ENV_PYTHON

from ct_spatial_bench.inference.backends.worker import RemoteAdapter
from ct_spatial_bench.models.base import Question

pytestmark = pytest.mark.skipif(ENV_MODEL != "vila_m3", reason="VILA-M3's environment only")
GROUPS = {"everything": "../experts/vista3d/label_dict.json",
          "lung tumor": {"lung": 20, "lung tumor": 23, "left lung lower lobe": 29},
          "organs": {"liver": 1, "left lung lower lobe": 29}}


def test_vila_m3_loads_and_answers_after_asking_vista3d(ras_volume, tmp_path):
    from support.vila_m3_standins import MODEL_CARDS, write_m3_checkout, write_vista3d_bundle

    config = {"model_path": "/models/Llama3-VILA-M3-8B/", "device": "cpu",
              "m3_dir": str(write_m3_checkout(tmp_path / "framework", GROUPS)),
              "vista3d_bundle": str(write_vista3d_bundle(tmp_path / "vista3d"))}
    replies = ["<VISTA3D(lung tumor)><|eot_id|>", "The right lung.<|eot_id|>"]
    adapter = RemoteAdapter("vila_m3", "ras_hu", ENV_PYTHON,
                            env={"VILA_M3_STANDIN_REPLIES": json.dumps(replies)})
    try:
        adapter.load(config)
        [answer] = adapter.answer_volume(ras_volume, [Question("q0", "which side")])
    finally:
        adapter.close()
    assert answer.text == "The right lung."
    assert answer.prompt == (
        MODEL_CARDS + "<image>This is a CT image.\nwhich side\n"
        "The results are <image>. The colors in this image describe red: left lung lower lobe. "
        "Use this result to respond to this prompt:\nwhich side")
