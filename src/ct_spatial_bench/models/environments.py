"""Each model in its authors' pinned world: the environment it runs in, declared as data.

Upstream ran every model in its own environment (CT-SpatialVQA ``benchmarking/inference/<model>/
requirements.txt`` at e25374c; Hulu-Med's own ``requirements.txt``). The pins that decide how a
model computes (python, torch, transformers, tokenizers and the model's own packages) are kept
here; ``envs.py`` builds them under ``.envs/<model>`` and checks an adapter inside one.

Torch: the authors' CUDA build where CUDA is present; on a machine without it, the CPU build
that installs here (``torch==2.13.0``). A pin that cannot install on this Python is replaced by
the nearest that does, and said in ``substitutions`` (printed in the models table).
"""

from __future__ import annotations

from dataclasses import dataclass

CPU_TORCH = "2.13.0"  # the CPU build this machine installs from a local file
# torchvision from PyPI does not import beside that CPU file; where a model's own package needs
# torchvision, the pair this machine installs from its local files (a CUDA build, run on the CPU)
CPU_TORCH_WITH_VISION = ("torch==2.14.1", "torchvision==0.29.1")
TIMM_VISION = ("without CUDA torch 2.14.1 + torchvision 0.29.1: timm requires torchvision, which "
               "does not import beside the 2.13.0 CPU file")
UPSTREAM = "Mashrafi27/CT-SpatialVQA@e25374c: benchmarking/inference/{}/requirements.txt"
# what the worker itself imports (models.worker reads .npy and .nii.gz inputs)
WORKER_NEEDS = ("nibabel", "pillow", "packaging", "pyyaml")


@dataclass(frozen=True)
class ModelEnvironment:
    model: str
    python: str  # the versions of Python it is declared for
    torch: str  # the authors' torch (CUDA build)
    torchvision: str  # the authors' torchvision, installed with that torch
    cuda: str  # the CUDA tag of that build (download.pytorch.org/whl/<cuda>)
    pins: tuple[str, ...]  # requirement lines, authors' versions
    source: str  # where the pins come from
    code: str = "-"  # the authors' code an adapter imports: repo@commit (- where none)
    substitutions: tuple[str, ...] = ()  # authors' pin -> what installs here, and why
    # its own package imports torchvision (the adapter's code path needs it without CUDA too)
    needs_torchvision: bool = False

    def requirements(self, cuda_available: bool) -> list[str]:
        """The lines pip or uv installs: torch (and torchvision) first, the authors' build, or
        without CUDA the one this machine installs."""
        return [*self.torch_requirements(cuda_available), *self.pins, *WORKER_NEEDS]

    def torch_requirements(self, cuda_available: bool) -> list[str]:
        if cuda_available:
            return [f"torch=={self.torch}", f"torchvision=={self.torchvision}"]
        return list(CPU_TORCH_WITH_VISION) if self.needs_torchvision else [f"torch=={CPU_TORCH}"]

    def summary(self) -> str:
        """One line for the models table."""
        transformers = next((p.split("==")[1] for p in self.pins
                             if p.startswith("transformers==")), "?")
        text = (f"python {self.python}, torch {self.torch} ({CPU_TORCH} CPU without CUDA), "
                f"transformers {transformers}; code {self.code}")
        return text + "".join(f"; {s}" for s in self.substitutions)


def _env(model: str, upstream: str | None, **fields) -> ModelEnvironment:
    source = fields.pop("source", None) or UPSTREAM.format(upstream)
    return ModelEnvironment(model=model, source=source, **fields)


ENVIRONMENTS: dict[str, ModelEnvironment] = {e.model: e for e in (
    _env("m3d", "m3d", python=">=3.10,<3.13", torch="2.5.1", torchvision="0.20.1", cuda="cu121",
         pins=("transformers==4.45.2", "tokenizers==0.20.3", "accelerate==1.12.0",
               "safetensors==0.7.0", "sentencepiece==0.2.1", "einops==0.8.1", "monai==1.3.0",
               "numpy==2.2.6", "huggingface-hub==0.36.0"),
         code="GoodBaiBai88/M3D-LaMed-* remote code (hub)"),
    _env("med3dvlm", "med3dvlm", python=">=3.10,<3.13", torch="2.6.0", torchvision="0.21.0", cuda="cu124",
         pins=("transformers==4.48.3", "tokenizers==0.21.0", "accelerate==1.3.0",
               "safetensors==0.5.2", "einops==0.8.1", "monai==1.4.0", "timm==1.0.14",
               "numpy==1.26.4", "huggingface-hub==0.28.1"),
         code="MagicXin/Med3DVLM-Qwen-2.5-7B remote code (hub)", needs_torchvision=True,
         substitutions=(TIMM_VISION,)),
    _env("radfm", "radfm", python=">=3.10,<3.13", torch="2.5.1", torchvision="0.20.1", cuda="cu121",
         pins=("transformers==4.31.0", "tokenizers==0.13.3", "sentencepiece==0.2.1",
               "safetensors==0.7.0", "einops==0.8.1", "einops-exts==0.0.4", "numpy==2.2.6",
               "huggingface-hub==0.36.0"),
         code="chaoyi-wu/RadFM@9efba84 (Quick_demo)"),
    _env("merlin", "merlin", python=">=3.10,<3.13", torch="2.9.1", torchvision="0.24.1", cuda="cu128",
         pins=("transformers==4.57.3", "tokenizers==0.22.1", "merlin-vlm==0.0.6",
               "monai==1.5.1", "peft==0.18.0", "accelerate==1.12.0", "einops==0.8.1",
               "numpy==2.2.6", "huggingface-hub==0.36.0"),
         code="merlin-vlm 0.0.6 (PyPI; StanfordMIMI/Merlin)", needs_torchvision=True,
         substitutions=("without CUDA torch 2.14.1 + torchvision 0.29.1 (merlin-vlm requires "
                        "torchvision, which does not import beside the 2.13.0 CPU file)",)),
    _env("ct_chat", "ct-chat", python=">=3.10,<3.13", torch="2.4.0", torchvision="0.19.0", cuda="cu124",
         pins=("transformers==4.44.0", "tokenizers==0.19.1", "accelerate==1.12.0",
               "peft==0.18.1", "einops==0.8.1", "einops-exts==0.0.4", "sentencepiece==0.2.1",
               "numpy==1.26.4", "huggingface-hub==0.36.0"),
         code="ibrahimethemhamamci/CT-CHAT@33c9b97 (llava, CTViT)"),
    _env("vila_m3", "vila-m3", python=">=3.10,<3.12", torch="2.3.0", torchvision="0.18.0", cuda="cu121",
         pins=("transformers==4.37.2", "tokenizers==0.15.2", "accelerate==0.27.2",
               "einops==0.6.1", "einops-exts==0.0.4", "sentencepiece==0.1.99", "timm==0.9.12",
               "monai==1.5.1", "scikit-image==0.25.2", "numpy==1.26.0",
               "huggingface-hub==0.36.0"),
         code="Project-MONAI/VLM-Radiology-Agent-Framework@fc8c5a7 + NVlabs/VILA@355fda9",
         needs_torchvision=True,
         substitutions=("flash-attn 2.5.8 left out (a CUDA build; sdpa attention instead)",
                        TIMM_VISION)),
    _env("medgemma", "medgemma", python=">=3.10,<3.14", torch="2.10.0", torchvision="0.25.0", cuda="cu128",
         pins=("transformers==4.57.6", "tokenizers==0.22.2", "accelerate==1.12.0",
               "numpy==2.2.6", "huggingface-hub==0.36.0")),
    _env("lingshu", "medevalkit", python=">=3.10,<3.14", torch="2.5.1", torchvision="0.20.1", cuda="cu121",
         pins=("transformers==5.0.0", "tokenizers==0.22.2", "accelerate==1.12.0",
               "qwen-vl-utils==0.0.14", "numpy==2.2.6", "huggingface-hub==1.3.4"),
         code="MedEvalKit (upstream's runner; the adapter needs none)", needs_torchvision=True,
         substitutions=("without CUDA torch 2.14.1 + torchvision 0.29.1 (transformers 5's "
                        "Qwen2.5-VL processor loads a video processor, which needs torchvision)",)),
    _env("hulu_med", None, python=">=3.10,<3.12", torch="2.4.0", torchvision="0.19.0", cuda="cu118",
         source="ZJUI-AI4H/Hulu-Med@a0060ad: requirements.txt",
         pins=("transformers==4.51.2", "tokenizers==0.21.1", "accelerate==1.7.0",
               "timm==1.0.3", "einops==0.6.1", "einops-exts==0.0.4", "numpy==1.26.4",
               "huggingface-hub==0.30.2"),
         code="ZJUI-AI4H/Hulu-Med@a0060ad (src: hulumed, hulumed_qwen3)", needs_torchvision=True,
         substitutions=("tokenizers 0.20.3 -> 0.21.1 (transformers 4.51.2 requires >=0.21)",
                        "numpy 1.24.4 -> 1.26.4 (1.24 builds from source on Python 3.12)",
                        "huggingface_hub 0.23.4 -> 0.30.2 (transformers 4.51.2 requires "
                        ">=0.30)",
                        "decord, opencv, deepspeed, gradio left out (video, training and demo "
                        "only)", TIMM_VISION)),
)}


# What ``env check <model>`` runs in each environment (tests/env_checks), and what of it is the
# authors' code: shown in the models table.
REMOTE_CODE_CHECK = ("load + answer through the worker: stand-in remote code in the hub "
                     "layout (trust_remote_code, slow tokenizer), as this venv computes it")
ENV_CHECKS = {
    "m3d": REMOTE_CODE_CHECK, "med3dvlm": REMOTE_CODE_CHECK,
    "radfm": ("load + answer through the worker: a stand-in Quick_demo model over a tiny "
              "LLaMA, the adapter's own strict loading, as this venv computes it"),
    "merlin": ("load + answer through the worker: merlin-vlm's own classes (PyPI) built at tiny "
               "size (full I3 ResNet-152, a one-layer RadLLaMA with its LoRA), against the "
               "authors' documented generate call"),
    "ct_chat": ("load + answer through the worker: stand-in CTViT and llava code folders "
                "(the authors' layout; neither is on PyPI) over a tiny Llama; prompt by hand, "
                "answer as the authors' validation flow computes it there"),
    "vila_m3": ("load + answer through the worker: stand-in llava modules (VILA's layout), the "
                "pinned MONAI running a small VISTA3D bundle config, the pinned scikit-image's "
                "overlay; answer and prompt by hand"),
    "medgemma": ("load + answer through the worker: a tiny random Gemma 3 checkpoint with its "
                 "published weight names, as this venv computes it"),
    "lingshu": ("load + answer through the worker: a tiny random Qwen2.5-VL checkpoint, as this "
                "venv computes it"),
    "hulu_med": ("load only: stand-in code packages over transformers' Qwen2/Qwen3; the 14B "
                 "layout loads through hulumed_qwen3, a forced Qwen2 load fails naming weights"),
}


def environment_of(model: str) -> ModelEnvironment:
    try:
        return ENVIRONMENTS[model]
    except KeyError:
        raise KeyError(f"no declared environment for {model!r}; declared: "
                       f"{', '.join(sorted(ENVIRONMENTS))}") from None
