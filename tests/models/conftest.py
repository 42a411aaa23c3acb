"""Tiny models and tokenizers for the adapter tests, built here and never downloaded."""

from __future__ import annotations

import numpy as np
import pytest

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


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory):
    """A random-weight LLaVA (CLIP vision tower, Llama text model) saved with its processor."""
    from transformers import (
        CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
        LlavaForConditionalGeneration, LlavaProcessor,
    )

    folder = tmp_path_factory.mktemp("tiny_llava")
    tokenizer = word_tokenizer(("<image>",))
    template = (
        "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %} {% endfor %}"
        "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    )
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 16},
                                           crop_size={"height": 16, "width": 16}),
        tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default",
        chat_template=template, num_additional_image_tokens=1)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, image_size=16, patch_size=8),
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                                num_hidden_layers=1, num_attention_heads=2,
                                num_key_value_heads=2, max_position_embeddings=512,
                                pad_token_id=1, bos_token_id=2, eos_token_id=3),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_layer=-1)
    import torch

    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


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


@pytest.fixture
def chest_volume(ras_volume):
    """``ras_volume`` with a body (-100 HU) inside one voxel of air, so a foreground crop has
    something to keep besides the bright block."""
    import nibabel as nib

    data = np.asanyarray(ras_volume.dataobj).copy()
    body = data[1:11, 1:9, :]
    body[body == -1000] = -100
    return nib.Nifti1Image(data, ras_volume.affine)
