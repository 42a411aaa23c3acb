"""Tiny random-weight Gemma 3 and Qwen2.5-VL checkpoints, saved the way the hub ships them.

Real transformers classes (model, image processor, tokenizer, processor) with a few hundred
parameters, a tokenizer trained here on the prompts' words, and each family's own chat template,
so an adapter's ``AutoProcessor`` / ``AutoModelForImageTextToText`` loading runs unchanged.
"""

from __future__ import annotations

from pathlib import Path

from ct_spatial_bench.models.adapters.hf_vlm import QUERY_LEAD, SLICE_BLOCK_PROMPT

TRAINING_TEXT = [SLICE_BLOCK_PROMPT["instruction"], QUERY_LEAD,
                 ("Question: which side is the nodule on? SLICE 0123456789 user model assistant "
                  "system You are a helpful assistant. Provide concise reasoning and conclude "
                  "with a final answer.")]

# Gemma 3's chat template (google/gemma-3-4b-it), condensed (its role-alternation check and
# string-content branch left out): each image becomes <start_of_image>, each text item is
# trimmed, one turn per message.
GEMMA3_CHAT_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- set role = "model" if message['role'] == 'assistant' else message['role'] -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- for item in message['content'] -%}
        {%- if item['type'] == 'image' -%}
            {{ '<start_of_image>' }}
        {%- elif item['type'] == 'text' -%}
            {{ item['text'] | trim }}
        {%- endif -%}
    {%- endfor -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

# Qwen2.5-VL-7B-Instruct's chat template (Lingshu-7B is a Qwen2.5-VL fine-tune).
QWEN2_5_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
QWEN_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                       "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
QWEN_PATCH, QWEN_MERGE, QWEN_TEMPORAL = 4, 2, 2  # Lingshu: 14, 2, 2
GEMMA_IMAGE_SIZE, GEMMA_TOKENS_PER_IMAGE = 16, 4  # MedGemma: 896, 256


def trained_tokenizer(tokenizer_class, specials, **named_specials):
    """``tokenizer_class``'s own pipeline, trained here on the prompts' text, plus ``specials``."""
    from tokenizers import pre_tokenizers

    alphabet = pre_tokenizers.ByteLevel.alphabet() + ["▁"]  # byte-level (Qwen) and "▁" (Gemma)
    trained = tokenizer_class().train_new_from_iterator(
        TRAINING_TEXT, vocab_size=400, new_special_tokens=list(specials),
        initial_alphabet=alphabet)
    if not named_specials:
        return trained
    import tempfile

    with tempfile.TemporaryDirectory() as folder:  # named tokens (tokenizer.boi_token, ...)
        trained.save_pretrained(folder)
        return tokenizer_class.from_pretrained(folder, extra_special_tokens=named_specials)


def build_tiny_gemma3(folder: Path) -> Path:
    """A Gemma3ForConditionalGeneration (SigLIP tower) with its Gemma3Processor, in ``folder``."""
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3Processor,
        Gemma3TextConfig,
        GemmaTokenizer,
        SiglipVisionConfig,
    )
    from transformers.models.gemma3.image_processing_pil_gemma3 import Gemma3ImageProcessorPil

    named = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
             "image_token": "<image_soft_token>"}
    tokenizer = trained_tokenizer(GemmaTokenizer, ["<start_of_turn>", "<end_of_turn>",
                                                   *named.values()], **named)
    ids = {f"{name[:-6]}_token_index": tokenizer.convert_tokens_to_ids(token)
           for name, token in named.items()}
    config = Gemma3Config(
        text_config=Gemma3TextConfig(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=1, head_dim=8, query_pre_attn_scalar=8,
            max_position_embeddings=4096, sliding_window=64, pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id),
        vision_config=SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, image_size=GEMMA_IMAGE_SIZE,
                                         patch_size=4),
        mm_tokens_per_image=GEMMA_TOKENS_PER_IMAGE, **ids)
    torch.manual_seed(0)
    Gemma3ForConditionalGeneration(config).save_pretrained(folder)
    image_processor = Gemma3ImageProcessorPil(
        size={"height": GEMMA_IMAGE_SIZE, "width": GEMMA_IMAGE_SIZE})
    Gemma3Processor(image_processor=image_processor, tokenizer=tokenizer,
                    chat_template=GEMMA3_CHAT_TEMPLATE,
                    image_seq_length=GEMMA_TOKENS_PER_IMAGE).save_pretrained(folder)
    return folder


def without_video_processor(monkeypatch) -> None:
    """Build Qwen2.5-VL processors from their image processor and tokenizer alone.

    transformers 5 gives Qwen2.5-VL's processor a video processor that needs torchvision, and
    PyPI's torchvision wheels are CUDA builds that do not load against a CPU torch. The adapters
    never send video, so the tests leave that part out; everything else loads as published.
    """
    from transformers import Qwen2_5_VLProcessor

    monkeypatch.setattr(Qwen2_5_VLProcessor, "get_attributes",
                        classmethod(lambda cls: ["image_processor", "tokenizer"]))


def build_tiny_qwen2_5_vl(folder: Path) -> Path:
    """A Qwen2_5_VLForConditionalGeneration with its processor (see ``without_video_processor``,
    which must be in force), in ``folder``."""
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2Tokenizer,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    tokenizer = trained_tokenizer(Qwen2Tokenizer, QWEN_SPECIAL_TOKENS)
    token = tokenizer.convert_tokens_to_ids
    config = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 16, "intermediate_size": 32,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
                     "max_position_embeddings": 4096, "bos_token_id": None,
                     "eos_token_id": token("<|im_end|>"), "pad_token_id": token("<|endoftext|>"),
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": [1, 1, 2]}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2,
                       "patch_size": QWEN_PATCH, "spatial_merge_size": QWEN_MERGE,
                       "temporal_patch_size": QWEN_TEMPORAL, "window_size": 8,
                       "out_hidden_size": 16, "fullatt_block_indexes": [0]},
        image_token_id=token("<|image_pad|>"), video_token_id=token("<|video_pad|>"),
        vision_start_token_id=token("<|vision_start|>"),
        vision_end_token_id=token("<|vision_end|>"))
    torch.manual_seed(0)
    Qwen2_5_VLForConditionalGeneration(config).save_pretrained(folder)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=64, max_pixels=4096,
                                               patch_size=QWEN_PATCH, merge_size=QWEN_MERGE,
                                               temporal_patch_size=QWEN_TEMPORAL)
    Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                        chat_template=QWEN2_5_VL_CHAT_TEMPLATE).save_pretrained(folder)
    return folder


def without_video_processors(monkeypatch) -> None:
    """As ``without_video_processor``, for Qwen3-VL's and InternVL's processors too."""
    from transformers import InternVLProcessor, Qwen3VLProcessor

    without_video_processor(monkeypatch)
    for processor in (Qwen3VLProcessor, InternVLProcessor):
        monkeypatch.setattr(processor, "get_attributes",
                            classmethod(lambda cls: ["image_processor", "tokenizer"]))


def build_tiny_qwen3_vl(folder: Path) -> Path:
    """A Qwen3VLForConditionalGeneration (interleaved M-RoPE, no deepstack layers) with a Qwen2-VL
    image processor and the Qwen-VL chat layout, in ``folder`` (``without_video_processors``
    must be in force)."""
    import torch
    from transformers import (
        Qwen2Tokenizer,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    tokenizer = trained_tokenizer(Qwen2Tokenizer, QWEN_SPECIAL_TOKENS)
    token = tokenizer.convert_tokens_to_ids
    config = Qwen3VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 16, "intermediate_size": 32,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
                     "head_dim": 8, "max_position_embeddings": 4096, "bos_token_id": None,
                     "eos_token_id": token("<|im_end|>"), "pad_token_id": token("<|endoftext|>"),
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": [1, 1, 2], "mrope_interleaved": True}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2,
                       "patch_size": QWEN_PATCH, "spatial_merge_size": QWEN_MERGE,
                       "temporal_patch_size": QWEN_TEMPORAL, "out_hidden_size": 16,
                       "num_position_embeddings": 16, "deepstack_visual_indexes": []},
        image_token_id=token("<|image_pad|>"), video_token_id=token("<|video_pad|>"),
        vision_start_token_id=token("<|vision_start|>"),
        vision_end_token_id=token("<|vision_end|>"))
    torch.manual_seed(0)
    Qwen3VLForConditionalGeneration(config).save_pretrained(folder)
    image_processor = Qwen2VLImageProcessorPil(
        patch_size=QWEN_PATCH, merge_size=QWEN_MERGE, temporal_patch_size=QWEN_TEMPORAL,
        size={"shortest_edge": 64, "longest_edge": 4096})
    Qwen3VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                     chat_template=QWEN2_5_VL_CHAT_TEMPLATE).save_pretrained(folder)
    return folder


INTERNVL_TOKENS = {"start_image_token": "<img>", "end_image_token": "</img>",
                   "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>"}
INTERNVL_CHAT_TEMPLATE = (  # InternVL3-hf's layout: <IMG_CONTEXT> per image, ChatML turns
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<IMG_CONTEXT>\n{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
INTERNVL_TILE, INTERNVL_TOKENS_PER_TILE = 16, 4  # InternVL3: 448, 256


def build_tiny_internvl3(folder: Path) -> Path:
    """An InternVLForConditionalGeneration (InternViT tower, Qwen2 text model) with its
    InternVLProcessor and a GOT-OCR2 tiling image processor (crops on, as published), in
    ``folder`` (``without_video_processors`` must be in force)."""
    import torch
    from transformers import (
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVisionConfig,
        Qwen2Config,
        Qwen2Tokenizer,
    )
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import (
        GotOcr2ImageProcessorPil,
    )

    tokenizer = trained_tokenizer(Qwen2Tokenizer, [*QWEN_SPECIAL_TOKENS[:3],
                                                   *INTERNVL_TOKENS.values()], **INTERNVL_TOKENS)
    token = tokenizer.convert_tokens_to_ids
    config = InternVLConfig(
        vision_config=InternVLVisionConfig(
            hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
            image_size=[INTERNVL_TILE] * 2, patch_size=[4, 4]),
        text_config=Qwen2Config(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
            eos_token_id=token("<|im_end|>"), pad_token_id=token("<|endoftext|>")),
        image_token_id=token("<IMG_CONTEXT>"), downsample_ratio=0.5, vision_feature_layer=-1)
    torch.manual_seed(0)
    InternVLForConditionalGeneration(config).save_pretrained(folder)
    image_processor = GotOcr2ImageProcessorPil(
        size={"height": INTERNVL_TILE, "width": INTERNVL_TILE}, crop_to_patches=True,
        max_patches=4)
    InternVLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                      chat_template=INTERNVL_CHAT_TEMPLATE,
                      image_seq_length=INTERNVL_TOKENS_PER_TILE).save_pretrained(folder)
    return folder


def qwen_patches_to_images(pixel_values, grid_thw):
    """Undo Qwen2-VL's patchify: ``(n_patches, C*T*p*p)`` back to one ``(C, H, W)`` per image."""
    images, start = [], 0
    for t, h, w in grid_thw.tolist():
        count = t * h * w
        patches = pixel_values[start:start + count].reshape(
            h // QWEN_MERGE, w // QWEN_MERGE, QWEN_MERGE, QWEN_MERGE, 3, QWEN_TEMPORAL,
            QWEN_PATCH, QWEN_PATCH)[:, :, :, :, :, 0]  # the frame is repeated in time
        images.append(patches.permute(4, 0, 2, 5, 1, 3, 6).reshape(3, h * QWEN_PATCH,
                                                                   w * QWEN_PATCH))
        start += count
    return images


def pixels_as_uint8(pixel_values, image_processor):
    """Undo the image processor's rescale and normalisation: the 0..255 pixels it was given."""
    import torch

    mean = torch.tensor(image_processor.image_mean).view(-1, 1, 1)
    std = torch.tensor(image_processor.image_std).view(-1, 1, 1)
    restored = (pixel_values * std + mean) / image_processor.rescale_factor
    return restored.round().clamp(0, 255).to(torch.uint8).numpy()
