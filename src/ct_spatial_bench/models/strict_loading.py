"""Strict weight loading: a weight the model lacks, or one the checkpoint lacks, is an error.

transformers only warns when names differ, and authors' loaders (``load_state_dict(strict=False)``,
their own builders) say nothing at all; a checkpoint loaded into the wrong classes (Hulu-Med 14B's
Qwen3 weights into Qwen2 classes) would then answer with random or zeroed layers. Two checks:

- ``check_loading_info``: what ``from_pretrained(..., output_loading_info=True)`` reports;
- ``check_weight_names``: a loaded module's state-dict names against the names in the checkpoint
  files themselves (safetensors headers and indexes, ``pytorch_model.bin`` memory-mapped), for
  models the authors' code loads.

Each error names the model, the counts, and the first few names of each kind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SHOWN = 5  # names listed per kind; the count covers the rest


class WeightMismatch(RuntimeError):
    """The checkpoint's weight names are not the model's."""


def _listed(kind: str, names: Iterable[str]) -> str | None:
    names = sorted(names)
    if not names:
        return None
    more = f", ... ({len(names) - SHOWN} more)" if len(names) > SHOWN else ""
    return f"{len(names)} {kind} ({', '.join(names[:SHOWN])}{more})"


def raise_if_mismatched(model: str, where: str, missing: Iterable[str] = (),
                        unexpected: Iterable[str] = (), mismatched: Iterable[str] = ()) -> None:
    parts = [p for p in (_listed("missing from the checkpoint", missing),
                         _listed("in the checkpoint but not in the model", unexpected),
                         _listed("of another shape", mismatched)) if p]
    if parts:
        raise WeightMismatch(
            f"{model}: the weights of {where} do not match the model's: {'; '.join(parts)}. "
            "Wrong checkpoint for this code (or code path), or a damaged download; nothing "
            "was answered with partly random weights.")


def check_loading_info(model: str, where: str, info: dict[str, Any]) -> None:
    """``from_pretrained``'s loading info: any missing, unexpected or mismatched name raises."""
    mismatched = [entry[0] if isinstance(entry, (tuple, list)) else entry
                  for entry in info.get("mismatched_keys") or ()]
    raise_if_mismatched(model, where, info.get("missing_keys") or (),
                        info.get("unexpected_keys") or (), mismatched)


def checkpoint_folder(path: str, revision: str | None = None) -> Path:
    """The folder holding a checkpoint's files: the path itself, or a hub id's cached snapshot."""
    if os.path.isdir(path) or os.path.isfile(path):
        return Path(path)
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(path, "config.json", revision=revision)).parent


def checkpoint_weight_names(path: str | os.PathLike) -> set[str]:
    """Every tensor name a checkpoint holds, read without loading the tensors: an index's
    ``weight_map``, else each ``*.safetensors`` header, else ``pytorch_model.bin`` mapped."""
    path = Path(path)
    if path.is_file():
        return _names_in_file(path)
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (path / index).is_file():
            return set(json.loads((path / index).read_text())["weight_map"])
    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("pytorch_model*.bin"))
    if not files:
        raise WeightMismatch(f"{path} holds no *.safetensors, pytorch_model*.bin or index")
    return set().union(*(_names_in_file(f) for f in files))


def _names_in_file(path: Path) -> set[str]:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            return set(handle.keys())
    import torch

    return set(torch.load(str(path), map_location="cpu", mmap=True, weights_only=True))


def model_weight_names(module: Any) -> dict[str, frozenset[str]]:
    """The module's state-dict names, each with the names sharing its storage (a tied weight is
    saved once, under any one of them)."""
    groups: dict[Any, set[str]] = {}
    names: dict[str, Any] = {}
    for name, tensor in module.state_dict(keep_vars=True).items():
        key = ((tensor.data_ptr(), tuple(tensor.shape)) if tensor.device.type != "meta"
               else name)
        groups.setdefault(key, set()).add(name)
        names[name] = key
    return {name: frozenset(groups[key]) for name, key in names.items()}


def check_weight_names(model: str, module: Any, checkpoint: str | os.PathLike,
                       prefix: str = "", derived: Iterable[str] = ()) -> None:
    """``module``'s names (each behind ``prefix`` in the checkpoint) against the checkpoint's.

    A tied name may be missing as long as one name of its tie is present; names containing one
    of ``derived`` (buffers computed at construction, e.g. ``rotary_emb.inv_freq``, which some
    transformers versions save and others do not) count on neither side."""
    check_names(model, str(checkpoint), module, checkpoint_weight_names(checkpoint), prefix,
                derived)


def check_names(model: str, where: str, module: Any, found: set[str], prefix: str = "",
                derived: Iterable[str] = ()) -> None:
    """``check_weight_names`` on names already read (a state dict's keys)."""
    ties = {prefix + name: {prefix + tied for tied in group}
            for name, group in model_weight_names(module).items()}
    if prefix:
        found = {name for name in found if name.startswith(prefix)}
    missing = {name for name, group in ties.items()
               if not group & found and not any(part in name for part in derived)}
    unexpected = {name for name in found - set(ties)
                  if not any(part in name for part in derived)}
    raise_if_mismatched(model, where, missing, unexpected)
