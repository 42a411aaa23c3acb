"""Loading the parts of models whose authors ship a package or a code folder, not a hub class.

An adapter's ``config["factory"]`` may name another loader (``"module:function"``, or the
function itself), which is how the tests hand in small stand-ins with the authors' call
signatures. A loader takes ``(config, adapter)`` and returns a dict of the model's parts.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def resolve_factory(config: dict[str, Any], default: Callable[..., dict[str, Any]]) -> Callable:
    factory = config.get("factory") or default
    if isinstance(factory, str):
        module_name, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
    return factory


def import_from(code_dir: str | None, module: str) -> Any:
    """Import ``module`` from the authors' code folder (put first on ``sys.path``) if given."""
    if code_dir and code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    return importlib.import_module(module)


def split_image_token(prompt: str, tokenizer: Any, marker: str = "<image>",
                      image_index: int = -200) -> list[int]:
    """Token ids of ``prompt`` with each ``marker`` replaced by the placeholder id LLaVA-style
    models fill with image features (-200); a leading BOS is kept once."""
    chunks = [tokenizer(chunk).input_ids for chunk in prompt.split(marker)]
    bos = getattr(tokenizer, "bos_token_id", None)
    ids: list[int] = []
    skip = 0
    if chunks and chunks[0] and bos is not None and chunks[0][0] == bos:
        ids.append(bos)
        skip = 1
    for position, chunk in enumerate(chunks):  # each chunk got its own BOS: drop them all
        if position:
            ids.append(image_index)
        ids.extend(chunk[skip:])
    return ids
