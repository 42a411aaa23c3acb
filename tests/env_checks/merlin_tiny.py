"""A tiny Merlin report generator built by the authors' own classes, run inside Merlin's
environment (``python merlin_tiny.py <work> <package copy>``, with ``cwd=<work>``,
``TORCH_HOME=<work>/torch`` and ``HF_HUB_OFFLINE=1``).

What is the authors' code: ``merlin.models.radiology_report_generation.Clip3DForTextGeneration``
(merlin-vlm from PyPI, unmodified) builds itself here exactly as ``Merlin(RadiologyReport=True)``
does: torchvision's ``resnet152(pretrained=True)`` inflated to 3D by ``i3res.I3ResNet``,
``Adapter(2048, 4096)``, and RadLLaMA through ``AutoTokenizer`` / ``AutoModelForCausalLM``
(``"StanfordAIMI/RadLLaMA-7b"``, ``cache_dir="./checkpoints"``) wrapped in its LoRA (r 512).

What is small or random instead of published: the files those calls read, written here where
they look for them, so nothing is downloaded:
- torchvision's ImageNet file for ResNet-152 (``$TORCH_HOME/hub/checkpoints``): torchvision's
  own random initialisation of ``resnet152()``, full size;
- RadLLaMA-7b in the hub cache layout under ``./checkpoints``: a LLaMA of one layer with the
  published hidden size 4096 (the adapter's output width) but 2 heads of 8 and an MLP of 16,
  and a SentencePiece LLaMA tokenizer trained on a few words;
- the report checkpoint in the package's ``models/checkpoints`` folder: the state of the model
  built above, its LoRA B matrices made non-zero so the LoRA changes the answer.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support.adapter_helpers

RADLLAMA = "StanfordAIMI/RadLLaMA-7b"
SNAPSHOT = "0" * 40  # any commit hash: the cache's refs/main names it
REPORT_CHECKPOINT = "resnet_gpt2_best_stanford_report_generation_average.pt"


def write_radllama(checkpoints: Path) -> Path:
    """The tiny RadLLaMA where ``from_pretrained(RADLLAMA, cache_dir=checkpoints)`` finds it."""
    import torch
    from support.adapter_helpers import write_sentencepiece_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    repo = checkpoints / ("models--" + RADLLAMA.replace("/", "--"))
    snapshot = repo / "snapshots" / SNAPSHOT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SNAPSHOT)
    # LLaMA's tokenizer: BOS 1 (TextDecoder drops the first id), a pad token (it pads)
    vocab = write_sentencepiece_tokenizer(snapshot, symbols=("###",), pad_token="<unk>",
                                          bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=4096, intermediate_size=16,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         head_dim=8, bos_token_id=1, eos_token_id=2, pad_token_id=0,
                         max_position_embeddings=512)
    LlamaForCausalLM(config).save_pretrained(snapshot)
    return snapshot


def write_resnet152(torch_home: Path) -> Path:
    """torchvision's random ResNet-152 where ``resnet152(pretrained=True)`` loads its file."""
    import torch
    import torchvision

    weights = torchvision.models.ResNet152_Weights.IMAGENET1K_V1
    path = torch_home / "hub" / "checkpoints" / Path(weights.url).name
    path.parent.mkdir(parents=True)
    torch.manual_seed(1)
    torch.save(torchvision.models.resnet152().state_dict(), path)
    return path


def write_report_checkpoint(package: Path) -> Path:
    import torch
    from merlin.models.radiology_report_generation import Clip3DForTextGeneration

    torch.manual_seed(2)
    model = Clip3DForTextGeneration()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0.0, 0.02)
    path = package / "merlin" / "models" / "checkpoints" / REPORT_CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


def main(work: str, package: str) -> None:
    import merlin

    origin = Path(merlin.__file__).resolve().parent
    assert origin == (Path(package) / "merlin").resolve(), f"merlin imported from {origin}"
    work_dir = Path(work)
    written = {"radllama": str(write_radllama(work_dir / "checkpoints")),
               "resnet152": str(write_resnet152(work_dir / "torch"))}
    written["report"] = str(write_report_checkpoint(Path(package)))
    print(json.dumps(written))


def copy_package(site_package: str, target: Path) -> Path:
    """The installed ``merlin`` package, unmodified, where its checkpoint folder is ours."""
    shutil.copytree(site_package, target / "merlin",
                    ignore=shutil.ignore_patterns("__pycache__", "checkpoints"))
    return target


if __name__ == "__main__":
    main(*sys.argv[1:3])
