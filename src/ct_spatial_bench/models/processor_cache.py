"""The image processor run once per volume, however many questions the volume has.

A transformers processor encodes each chat whole: text and images. A volume's questions share
its slices, so while ``images_once(processor)`` is active the processor's image processor
answers a call with the same image objects (by identity) and the same settings from the first
call's result instead of recomputing it. The processor itself, its chat template and its
image-token expansion are unchanged, so every prompt's tensors are what they were.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _ImagesOnce:
    """Stands in for an image processor: the same call, computed once."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._results: dict[tuple, Any] = {}
        self.calls, self.computed, self.seconds = 0, 0, 0.0

    def __getattr__(self, name: str) -> Any:  # everything else is the real image processor's
        return getattr(self._inner, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        key = (_identities((args, kwargs)), repr(sorted((k, repr(v)) for k, v in kwargs.items()
                                                        if not _holds_images(v))))
        if key not in self._results:
            started = time.perf_counter()
            self._results[key] = self._inner(*args, **kwargs)
            self.seconds += time.perf_counter() - started
            self.computed += 1
        return copy.copy(self._results[key])  # a processor may pop entries of its own


def _identities(value: Any) -> tuple:
    """The identity of every image (anything not a container or plain value) in ``value``."""
    if isinstance(value, dict):
        return tuple(_identities(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return tuple(_identities(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return (value,)
    return (id(value),)


def _holds_images(value: Any) -> bool:
    return not isinstance(value, (str, int, float, bool, type(None), dict))


@contextmanager
def images_once(processor: Any) -> Iterator[Any]:
    """Within the block, ``processor.image_processor`` computes each distinct call once; yields
    the stand-in (its ``calls``, ``computed`` and ``seconds`` count the image processing)."""
    inner = processor.image_processor
    standin = _ImagesOnce(inner)
    processor.image_processor = standin
    try:
        yield standin
    finally:
        processor.image_processor = inner
