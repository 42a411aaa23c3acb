"""``python -m ct_spatial_bench.inference.backends.worker_process``: one model adapter served over JSON Lines.

A model whose dependencies clash with the main environment (an old transformers, the authors'
own packages) runs in its own interpreter, set as ``runtime.python`` in the model's inference
parameters. The inference node starts this module there (``inference.backends.worker.RemoteAdapter``) and
keeps the checkpointing, progress bar and error handling on its side.

Requests come on stdin, replies go to stdout, one JSON object per line:

    {"op": "load", "model": "m3d", "blind": false, "config": {...}}
        -> {"ok": true, "describe": {...}, "prompt_template": ..., "input_spec": "m3d"}
    {"op": "answer_volume", "image": "/tmp/x.npy" | null,
     "questions": [{"qa_id", "text", "meta"}, ...]}
        -> {"ok": true, "answers": [{"text", "prompt", "prompt_tokens", ...}, ...],
            "efficiency": {...}}
    {"op": "close"}  -> the worker exits
    any failure      -> {"ok": false, "error": "<Type>: <message>"}

Images travel as files (``.npy`` arrays, ``.nii.gz`` volumes) the parent writes once per volume.
Anything the model prints goes to stderr, so stdout carries nothing but replies.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


def read_image(path: str | None) -> Any:
    if path is None:
        return None
    if path.endswith(".npy"):
        import numpy as np

        return np.load(path, allow_pickle=False)
    import nibabel as nib

    return nib.load(path)


class _Server:
    def __init__(self) -> None:
        self.adapter: Any = None
        self._image: tuple[str | None, Any] = (None, None)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "load":
            return self._load(request)
        if op == "answer_volume":
            return self._answer_volume(request)
        raise ValueError(f"unknown op {op!r}")

    def _load(self, request: dict[str, Any]) -> dict[str, Any]:
        from ct_spatial_bench.models.registry import create_adapter

        self.adapter = create_adapter(request["model"])
        self.adapter.load(request.get("config") or {})
        return {"ok": True, "describe": self.adapter.describe(),
                "prompt_template": self.adapter.prompt_template(),
                "input_spec": self.adapter.input_spec}

    def _answer_volume(self, request: dict[str, Any]) -> dict[str, Any]:
        from dataclasses import asdict

        from ct_spatial_bench.models.base import Question

        if self.adapter is None:
            raise RuntimeError("answer_volume before load")
        questions = [Question(row["qa_id"], row["text"], row.get("meta") or {})
                     for row in request["questions"]]
        answers = self.adapter.answer_volume(self._cached_image(request.get("image")), questions)
        return {"ok": True, "answers": [asdict(answer) for answer in answers],
                "efficiency": self.adapter.efficiency()}

    def _cached_image(self, path: str | None) -> Any:
        if path is None:
            return None
        if self._image[0] != path:  # one volume's questions arrive together: read it once
            self._image = (path, read_image(path))
        return self._image[1]


def serve(requests: TextIO, replies: TextIO) -> None:
    server = _Server()
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if request.get("op") == "close":
                break
            reply = server.handle(request)
        except Exception as exc:  # noqa: BLE001 - every failure goes back as a reply
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply, ensure_ascii=False, default=str) + "\n")
        replies.flush()


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints (even from C) go to stderr
    sys.stdout = sys.stderr
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
