"""Helpers of the adapter tests: a tokenizer trained here, test volumes, and a patient stored or
mirrored."""

from __future__ import annotations

import numpy as np

WORDS = ("the a is on left right which side lung nodule of in chest ct slice answer question "
         "you are radiologist reading based above below slices block").split()


def word_tokenizer(specials=()):
    """A whitespace word-level tokenizer trained on a few words, plus ``specials`` as tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = ["<unk>", "<pad>", "<s>", "</s>", *specials, *WORDS]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>",
                                        pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    if specials:
        tokenizer.add_special_tokens({"additional_special_tokens": list(specials)})
    return tokenizer


def write_sentencepiece_tokenizer(folder, symbols=(), **config):
    """A real SentencePiece ``tokenizer.model`` (unk 0, bos 1, eos 2) over ``WORDS`` with
    ``symbols`` as single pieces, and a ``tokenizer_config.json`` naming LlamaTokenizer, as
    LLaMA-based checkpoints publish them; returns the vocabulary size."""
    import io
    import json

    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([" ".join(WORDS)] * 50), model_writer=model, vocab_size=80,
        model_type="bpe", unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2,
        hard_vocab_limit=False, user_defined_symbols=list(symbols))
    (folder / "tokenizer.model").write_bytes(model.getvalue())
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "LlamaTokenizer", "model_max_length": 2048, **config}))
    return spm.SentencePieceProcessor(model_proto=model.getvalue()).get_piece_size()


# The GPU path on CPU: each adapter test runs once as on CPU (float32) and once with the dtype
# the adapter picks on CUDA, forced on CPU, so a model and an input of different dtypes fail here
# as they would on a GPU ("mat1 and mat2 must have the same dtype").
PATHS = ("cpu", "gpu")


def gpu_dtype(adapter_cls) -> str:
    """The dtype ``adapter_cls`` runs in on CUDA when the config names none, by name."""
    from ct_spatial_bench.models.common import torch_dtype

    return str(torch_dtype(adapter_cls.default_dtype, "cuda")).removeprefix("torch.")


def dtype_on(path: str, adapter_cls) -> str:
    return gpu_dtype(adapter_cls) if path == "gpu" else "float32"


def loaded_with_spy(adapter_cls, folder, monkeypatch, dtype="float32"):
    """``adapter_cls`` loaded from ``folder`` on CPU in ``dtype`` (greedy, 2 new tokens), and the
    list each of its model's ``generate`` calls appends its keyword arguments to."""
    adapter = adapter_cls()
    adapter.load({"model_path": str(folder), "device": "cpu", "dtype": dtype,
                  "generation": {"max_new_tokens": 2}})
    seen = []
    generate = adapter.model.generate

    def spy(**kwargs):
        seen.append(kwargs)
        return generate(**kwargs)

    monkeypatch.setattr(adapter.model, "generate", spy)
    return adapter, seen


def tall_volume(n_slices, side=16):
    """A ``side`` x ``side`` x ``n_slices`` RAS volume (int16 HU) a slice-based model reads.

    A block on the patient's right (high RAS x) tells the side; the voxel at x = y = 1 rises by
    22 HU per slice from -1000, so each slice's wide-window value tells which slice it is.
    """
    import nibabel as nib

    data = np.full((side, side, n_slices), -1000, dtype=np.int16)
    data[2:side - 2, 2:side - 2, :] = -100  # body
    data[side - 5:side - 2, 6:10, :] = 40  # the block, patient's right
    data[1, 1, :] = -1000 + 22 * np.arange(n_slices)
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    image = nib.Nifti1Image(data, affine)
    image.set_sform(affine, code=1)
    return image


def display_slices(image):
    """The volume in radiological display, by hand: slices top to bottom, rows anterior to
    posterior, columns patient right to left (``image`` must be stored RAS, as above)."""
    return np.asanyarray(image.dataobj)[::-1, ::-1, ::-1].transpose(2, 1, 0)


def notebook_rgb(hu):
    """Google's MedGemma CT notebook's ``window``: each window clipped, scaled to 0..255 and
    rounded, stacked as R, G, B."""
    channels = []
    for low, high in ((-1024, 1024), (-135, 215), (0, 80)):
        scaled = (np.clip(hu, low, high).astype(np.float32) - low) / (high - low) * 255.0
        channels.append(np.round(scaled, 0).astype(np.uint8))
    return np.stack(channels, axis=-1)


def conf_spec(name):
    """The input spec ``name`` as conf/base/parameters_preprocessing.yml defines it."""
    from pathlib import Path

    import yaml

    from ct_spatial_bench.imaging.specs import InputSpec

    specs = yaml.safe_load(Path("conf/base/parameters_preprocessing.yml").read_text())
    return InputSpec.from_params(name, specs["preprocessing"]["specs"][name])


def check_slice_prompt(prompt, image_marker, count, ending):
    """The slice-block prompt: the instruction, then ``count`` images each labelled ``SLICE i``
    in order, and the question last, ``ending`` the rendered prompt."""
    import re

    from ct_spatial_bench.models.adapters.hf_vlm import SLICE_BLOCK_PROMPT

    labels = re.findall(re.escape(image_marker) + r"SLICE (\d+)", prompt)
    assert labels == [str(i) for i in range(1, count + 1)]
    assert prompt.count(image_marker) == count
    assert prompt.index(SLICE_BLOCK_PROMPT["instruction"]) < prompt.index(image_marker)
    assert prompt.endswith(ending)


def check_mirroring(adapter, seen, spec, images_of, n_slices):
    """Ask about a patient, the patient mirrored and the patient stored LPS: the RGB slices the
    model got (``images_of(generate's kwargs)``, ``(n, H, W, 3)``) are mirrored, then identical,
    and the block on the patient's right shows on the image's left."""
    from ct_spatial_bench.imaging.specs import apply_spec
    from ct_spatial_bench.models.base import Question

    volume = tall_volume(n_slices)
    for image in (volume, mirrored(volume), lps_copy(volume)):
        list(adapter.answer_volume(apply_spec(image, spec), [Question("q", "which side")]))
    shown, flipped, stored_lps = (images_of(sent) for sent in seen[-3:])
    assert shown.shape == (n_slices, 16, 16, 3)  # fewer slices than the spec's: all, in order
    np.testing.assert_array_equal(flipped, shown[:, :, ::-1])
    np.testing.assert_array_equal(stored_lps, shown)
    block = np.argwhere(shown[..., 1] == notebook_rgb(np.array([40]))[0, 1])
    assert len(block) and block[:, 2].max() < 8


def lps_copy(image):
    """The same patient stored in LPS order: the data flipped in x and y, the affine to match."""
    import nibabel as nib

    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[:2, 3] = [image.shape[0] - 1, image.shape[1] - 1]
    data = np.asanyarray(image.dataobj)[::-1, ::-1, :].copy()
    return nib.Nifti1Image(data, image.affine @ flip)


def mirrored(image):
    """The patient mirrored left-right: same header, voxels flipped along the RAS x axis."""
    import nibabel as nib

    return nib.Nifti1Image(np.asanyarray(image.dataobj)[::-1].copy(), image.affine)


def floating_dtypes(tensors) -> set:
    """The dtypes of the floating-point tensors among ``tensors`` (a mapping's values too)."""
    import torch

    values = tensors.values() if isinstance(tensors, dict) else tensors
    return {t.dtype for t in values if torch.is_tensor(t) and t.is_floating_point()}
