"""Tiny models and tokenizers for the adapter tests, built here and never downloaded."""

from __future__ import annotations

import numpy as np
import pytest
from support.adapter_helpers import word_tokenizer


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory):
    """A random-weight LLaVA (CLIP vision tower, Llama text model) saved with its processor."""
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
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


@pytest.fixture
def chest_volume(ras_volume):
    """``ras_volume`` with a body (-100 HU) inside one voxel of air, so a foreground crop has
    something to keep besides the bright block."""
    import nibabel as nib

    data = np.asanyarray(ras_volume.dataobj).copy()
    body = data[1:11, 1:9, :]
    body[body == -1000] = -100
    return nib.Nifti1Image(data, ras_volume.affine)
