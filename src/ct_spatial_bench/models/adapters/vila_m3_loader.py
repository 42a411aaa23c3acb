"""VILA-M3's default loader: VILA's ``llava`` runtime for the chat, MONAI's VISTA3D bundle for the
expert, as Project-MONAI/VLM-Radiology-Agent-Framework ``m3/demo`` runs them.

``gradio_m3.py`` (``M3Generator``): ``load_pretrained_model(path, get_model_name_from_path(path))``;
per request a copy of ``conv_templates["llama_3"]``, one turn per message (an empty assistant turn
last for LLaMA-3), ``process_images`` on the slices, ``tokenizer_image_token`` with
``IMAGE_TOKEN_INDEX``, ``generate(input_ids, images=[tensor], use_cache=True, stopping_criteria=
[KeywordsStoppingCriteria([stop])], pad_token_id=eos, ...)``, the stop string cut from the reply.
``experts/expert_monai_vista3d.py``: ``monai.bundle.create_workflow(workflow_type="infer", ...)``
on the bundle's ``configs/inference.json`` with ``input_dict={"image": file[, "label_prompt":
ids]}``, uint8 ``.nii.gz`` output, ``workflow.evaluator.run()``; label names from
``experts/label_groups_dict.json``; the first user turn starts with the demo's ``MODEL_CARDS``
(``SessionVariables.use_model_cards = True``), read from ``m3/demo/gradio_m3.py`` itself.

Settings: ``m3_dir`` (a checkout of the framework with its ``thirdparty/VILA`` submodule, as its
``make demo_m3`` prepares) or else ``code_dir`` (a VILA checkout), ``label_groups`` (the JSON
file) and ``model_cards_file`` (the demo's ``gradio_m3.py``, or a text file); ``vista3d_bundle`` (the unzipped bundle folder, ``vista3d_v0.5.4/vista3d`` in the demo);
``conv_mode`` (``llama_3``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from ct_spatial_bench.models.common import ModelNotConfigured
from ct_spatial_bench.models.components import import_from


def load_vila_m3(config: dict[str, Any], adapter: Any) -> dict[str, Any]:
    code_dir, groups_file, cards_file = _sources(config)
    chat, model = vila_chat(code_dir, str(config["model_path"]),
                            str(config.get("conv_mode") or "llama_3"), adapter.device)
    return {"chat": chat, "model": model, "segment": vista3d_segmenter(config["vista3d_bundle"]),
            "label_groups": json.loads(Path(groups_file).read_text()),
            "model_cards": read_model_cards(cards_file)}


def _demo_files(config: dict[str, Any]) -> tuple[Any, Any]:
    """The label groups file and the model cards file the config names, or the demo's own in
    ``m3_dir``; None where neither."""
    demo = Path(config["m3_dir"]) / "m3" / "demo" if config.get("m3_dir") else None
    groups = config.get("label_groups") or (
        demo / "experts" / "label_groups_dict.json" if demo else None)
    cards = config.get("model_cards_file") or (demo / "gradio_m3.py" if demo else None)
    return groups, cards


def _sources(config: dict[str, Any]) -> tuple[str, str, str]:
    m3_dir = Path(config["m3_dir"]) if config.get("m3_dir") else None
    code_dir = config.get("code_dir") or (m3_dir / "thirdparty" / "VILA" if m3_dir else None)
    groups, cards = _demo_files(config)
    if not code_dir or not groups or not cards:
        raise ModelNotConfigured(
            "vila_m3 cannot load: set vila_m3.inference.config.m3_dir to a checkout of "
            "Project-MONAI/VLM-Radiology-Agent-Framework with its thirdparty/VILA submodule (or "
            "code_dir, a VILA checkout, label_groups, its m3/demo/experts/label_groups_dict.json, "
            "and model_cards_file, its m3/demo/gradio_m3.py)")
    return str(code_dir), str(groups), str(cards)


def text_sources(config: dict[str, Any]) -> tuple[str | None, str | None]:
    """The label groups file and the model cards file as ``_sources`` finds them, each None
    where it is not there (the memory plan counts their text without loading anything)."""
    groups, cards = _demo_files(config)
    return (str(groups) if groups and Path(groups).is_file() else None,
            str(cards) if cards and Path(cards).is_file() else None)


def read_model_cards(path: str | os.PathLike) -> str:
    """The demo's ``MODEL_CARDS`` string, read from ``gradio_m3.py`` without importing it (it
    imports gradio and the experts); any other file is taken as the cards text itself."""
    import ast

    text = Path(path).read_text()
    if not str(path).endswith(".py"):
        return text
    for node in ast.parse(text).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "MODEL_CARDS"):
            return ast.literal_eval(node.value)
    raise ModelNotConfigured(f"vila_m3: {path} assigns no MODEL_CARDS string (the demo's "
                             "gradio_m3.py does); set model_cards_file to the demo's file")


def vila_chat(code_dir: str, model_path: str, conv_mode: str, device: str) -> tuple[Any, Any]:
    """``chat(messages, generation) -> reply`` over VILA's runtime, and the model it runs."""
    constants = import_from(code_dir, "llava.constants")
    conversation = import_from(code_dir, "llava.conversation")
    mm_utils = import_from(code_dir, "llava.mm_utils")
    builder = import_from(code_dir, "llava.model.builder")
    import_from(code_dir, "llava.utils").disable_torch_init()
    tokenizer, model, image_processor, _ = builder.load_pretrained_model(
        model_path, mm_utils.get_model_name_from_path(model_path), device=device)

    def chat(messages: list[dict[str, Any]], generation: dict[str, Any]) -> str:
        import torch
        from PIL import Image

        conv = conversation.conv_templates[conv_mode].copy()
        user, assistant = conv.roles[0], conv.roles[1]
        images = []
        for message in messages:
            conv.append_message(user if message["role"] == "user" else assistant, message["text"])
            images += [Image.fromarray(picture) for picture in message["images"]]
        if conv.sep_style == conversation.SeparatorStyle.LLAMA_3:
            conv.append_message(assistant, "")
        input_ids = mm_utils.tokenizer_image_token(
            conv.get_prompt(), tokenizer, constants.IMAGE_TOKEN_INDEX,
            return_tensors="pt").unsqueeze(0).to(model.device)
        pixels = None
        if images:  # the demo casts to float16, the dtype VILA's loader gives the model
            pixels = [mm_utils.process_images(images, image_processor, model.config)
                      .to(model.device, dtype=getattr(model, "dtype", torch.float16))]
        stop = conv.sep if conv.sep_style != conversation.SeparatorStyle.TWO else conv.sep2
        stopping = mm_utils.KeywordsStoppingCriteria([stop], tokenizer, input_ids)
        with torch.inference_mode():
            output = model.generate(input_ids, images=pixels, use_cache=True,
                                    stopping_criteria=[stopping],
                                    pad_token_id=tokenizer.eos_token_id, **generation)
        reply = tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip()
        return (reply[:-len(stop)] if stop and reply.endswith(stop) else reply).strip()

    return chat, model


def vista3d_segmenter(bundle_root: str | os.PathLike) -> Any:
    """``segment(image, label_prompt=None) -> labels``: the bundle's inference on a NIfTI image,
    labels as an array in the image's voxel order (the bundle writes them in the input's space)."""
    root = str(bundle_root)

    def segment(image: Any, label_prompt: list[int] | None = None) -> Any:
        import tempfile

        import nibabel as nib
        import numpy as np
        from monai.bundle import create_workflow

        if root not in sys.path:  # the bundle's own ``scripts`` package, as the demo puts it
            sys.path.insert(0, root)
        configs = Path(root) / "configs"
        with tempfile.TemporaryDirectory() as folder:
            source = os.path.join(folder, "image.nii.gz")
            nib.save(image, source)
            request = {"image": source}
            if label_prompt is not None:
                request["label_prompt"] = [int(i) for i in label_prompt]
            written = os.path.join(folder, "labels")
            # the bundle's logging.conf is left out: it would reconfigure the host's logging
            workflow = create_workflow(
                workflow_type="infer", bundle_root=root,
                config_file=str(configs / "inference.json"),
                meta_file=str(configs / "metadata.json"), input_dict=request,
                output_dtype="uint8", separate_folder=False, output_ext=".nii.gz",
                output_dir=written)
            workflow.evaluator.run()
            [name] = os.listdir(written)
            labels = nib.load(os.path.join(written, name))
            ornt = nib.orientations
            turn = ornt.ornt_transform(ornt.io_orientation(labels.affine),
                                       ornt.io_orientation(image.affine))
            return np.asarray(ornt.apply_orientation(np.asanyarray(labels.dataobj), turn))

    return segment
