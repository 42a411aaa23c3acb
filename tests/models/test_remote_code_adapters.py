"""M3D-LaMed and Med3DVLM loaded by the adapters' own code from trust_remote_code folders.

The folders (``remote_code_folders.py``) hold a small stand-in model with the authors'
``generate(images, inputs, ...)``; the adapters load them with ``AutoModelForCausalLM`` and
``AutoTokenizer`` (``trust_remote_code=True``, hub offline). Checked: the volume's shape, value
range and axis order, the ``<im_patch>`` run before the question that the authors' code
overwrites with image features, greedy decoding, and that a mirrored patient arrives mirrored.
"""

from dataclasses import replace

import pytest
import torch
from support.adapter_helpers import PATHS, conf_spec, dtype_on, lps_copy, mirrored
from support.remote_code_folders import build_remote_code_model

from ct_spatial_bench.imaging.specs import apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.m3d import M3DLaMed
from ct_spatial_bench.models.adapters.med3dvlm import Med3DVLM
from ct_spatial_bench.models.base import Question
from ct_spatial_bench.models.common import dtype_keyword

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def modules_cache(tmp_path_factory):
    """Remote code is copied into transformers' modules cache: keep it in a temporary folder."""
    import transformers.dynamic_module_utils as dynamic

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path_factory.mktemp("hf_modules")))
        yield


# adapter, remote-code family, config.json extras, image tokens expected, BOS first
CASES = [
    pytest.param(M3DLaMed, "m3d", {}, 256, True, id="m3d"),  # no proj_out_num: the README's 256
    pytest.param(Med3DVLM, "med3dvlm", {"proj_out_num": 8}, 8, False, id="med3dvlm"),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("cls,family,config_extra,tokens,bos", CASES)
def test_loads_remote_code_and_sends_the_authors_inputs(cls, family, config_extra, tokens, bos,
                                                         path, chest_volume, tmp_path):
    folder = build_remote_code_model(tmp_path / family, family, **config_extra)
    adapter = cls()
    dtype = getattr(torch, dtype_on(path, cls))
    adapter.load({"model_path": str(folder), "device": "cpu", "dtype": dtype_on(path, cls),
                  "generation": {"max_new_tokens": 3}})
    model = adapter.model
    assert type(model).__module__.startswith("transformers_modules.")  # the folder's own code
    assert model.dtype == dtype  # from_pretrained got the dtype keyword
    # min-max here, whose extremes are known by hand; conf's percentile rule: tests/imaging
    spec = replace(conf_spec(cls.input_spec), shape=(8, 16, 16), normalise="minmax",
                   percentiles=None)
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(chest_volume, spec), {},
                       progress=False)
    assert pred["status"] == "ok", pred["error"]
    assert isinstance(pred["prediction"], str)

    sent = model.received[-1]
    images, ids = sent["images"], sent["inputs"][0].tolist()
    assert images.shape == (1, 1, 8, 16, 16) and images.dtype == dtype
    images = images.float()
    # min-max over the whole volume (-1000..40 HU), then the crop to the body (-100 HU), as in
    # the authors' m3d_cap_data_prepare.py
    tolerance = 1e-6 if dtype == torch.float32 else 2 ** -8  # bfloat16 keeps 8 bits
    assert images.max() == 1 and images.min() == pytest.approx(900 / 1040, abs=tolerance)
    assert pred["prompt"] == "<im_patch>" * tokens + " which side"
    patch_id = adapter.tokenizer.convert_tokens_to_ids("<im_patch>")
    first = 1 if bos else 0
    assert ids[:first] == ([adapter.tokenizer.bos_token_id] if bos else [])
    assert ids[first:first + tokens] == [patch_id] * tokens and patch_id not in ids[first + tokens:]
    assert adapter.tokenizer.decode(ids[first + tokens:]).strip() == "which side"
    assert sent["kwargs"] == {"do_sample": False, "num_beams": 1, "max_new_tokens": 3}

    for image in (mirrored(chest_volume), lps_copy(chest_volume)):
        adapter.answer_volume(apply_spec(image, spec), [Question("q", "which side")])
    flipped, stored_lps = (call["images"].float() for call in model.received[-2:])
    torch.testing.assert_close(flipped, images.flip(-1))  # columns: patient right to left
    torch.testing.assert_close(stored_lps, images)


def test_authors_volume_shapes():
    m3d, med3dvlm = conf_spec("m3d"), conf_spec("med3dvlm")
    assert m3d.shape == (32, 256, 256) and med3dvlm.shape == (128, 256, 256)
    assert m3d.axis_order == med3dvlm.axis_order == "zyx"


def test_dtype_keyword_follows_the_installed_transformers(monkeypatch):
    import transformers

    monkeypatch.setattr(transformers, "__version__", "4.44.2")  # M3D's time
    assert dtype_keyword(torch.bfloat16) == {"torch_dtype": torch.bfloat16}
    monkeypatch.setattr(transformers, "__version__", "4.56.0")
    assert dtype_keyword(torch.bfloat16) == {"dtype": torch.bfloat16}


@pytest.mark.parametrize("cls,family,config_extra,tokens,bos", CASES)
def test_an_answer_cut_by_the_budget_is_marked(cls, family, config_extra, tokens, bos,
                                               chest_volume, tmp_path):
    """max_new_tokens 3: with the end token suppressed every answer runs to the budget (cut);
    with it forced as the last allowed token the answer is as long but ended on its own."""
    folder = build_remote_code_model(tmp_path / family, family, **config_extra)
    spec = replace(conf_spec(cls.input_spec), shape=(8, 16, 16), normalise="minmax",
                   percentiles=None)
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    end = None
    for setting, cut in (("suppress_tokens", True), ("forced_eos_token_id", False)):
        adapter = cls()
        if end is None:  # the checkpoint's own end token, read once
            adapter.load({"model_path": str(folder), "device": "cpu"})
            end, adapter = adapter.model.generation_config.eos_token_id, cls()
        value = [end] if setting == "suppress_tokens" else end
        adapter.load({"model_path": str(folder), "device": "cpu",
                      "generation": {"max_new_tokens": 3, setting: value}})
        [pred] = run_model(adapter, items, lambda _: apply_spec(chest_volume, spec), {},
                           progress=False)
        assert pred["status"] == "ok", pred["error"]
        assert pred["hit_token_limit"] is cut
