"""An adapter that runs a registered model in another interpreter (``inference.backends.worker_process``).

It implements the same protocol, so the engine's checkpointing, progress and per-item errors
work unchanged; only ``load`` and ``answer_volume`` cross the process boundary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question

_SRC_DIR = str(Path(__file__).resolve().parents[3])  # so the worker imports this package


def _relay_redacted(stream: Any) -> None:
    """The worker's messages (its log, anything its model prints) on this process's stderr,
    each line redacted: the worker may print the key it was given."""
    from ct_spatial_bench.secrets import redact_text

    for line in stream:
        sys.stderr.write(redact_text(line))
        sys.stderr.flush()


class WorkerError(RuntimeError):
    """The worker process failed or answered with an error."""


class RemoteAdapter(ModelAdapter):
    def __init__(self, name: str, input_spec: str | None, python: str,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.input_spec = input_spec
        self.python = python
        self._env = env or {}
        self._process: subprocess.Popen | None = None
        self._describe: dict[str, Any] = {}
        self._prompt_template: Any = None
        self._efficiency: dict[str, Any] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix=f"worker_{name}_")
        self._image_file: tuple[Any, str | None] = (None, None)
        self._written = 0

    def load(self, config: dict[str, Any]) -> None:
        from ct_spatial_bench.secrets import redact, register_key_variables

        # The worker reads the key named by api_key_env; this process must know it too, to
        # remove it from everything the worker says (replies, errors, its log on stderr).
        register_key_variables(config)
        env = {**os.environ, **self._env}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC_DIR, env.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(
                [self.python, "-m", "ct_spatial_bench.inference.backends.worker_process"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, encoding="utf-8", errors="backslashreplace", env=env,
            )
        except OSError as exc:
            raise WorkerError(f"cannot start {self.python!r} for {self.name} "
                              f"(runtime.python): {exc}") from exc
        self._stderr = threading.Thread(target=_relay_redacted, args=(self._process.stderr,),
                                        daemon=True)
        self._stderr.start()
        reply = redact(self._call({"op": "load", "model": self.name, "config": config}))
        self._describe = reply["describe"]
        self._prompt_template = reply.get("prompt_template")

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        rows = [{"qa_id": q.qa_id, "text": q.text, "meta": q.meta} for q in questions]
        reply = self._call({"op": "answer_volume", "image": self._file_of(image),
                            "questions": rows})
        self._efficiency = reply.get("efficiency")
        return [Answer(**answer) for answer in reply["answers"]]

    def describe(self) -> dict[str, Any]:
        return dict(self._describe)

    def prompt_template(self) -> Any:
        return self._prompt_template

    def efficiency(self) -> dict[str, Any] | None:
        return self._efficiency

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            try:
                self._process.stdin.write(json.dumps({"op": "close"}) + "\n")
                self._process.stdin.close()
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
        self._tmp.cleanup()

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        process = self._process
        if process is None or process.poll() is not None:
            code = None if process is None else process.returncode
            raise WorkerError(f"{self.name} worker is not running (exit code {code})")
        process.stdin.write(json.dumps(request, ensure_ascii=False, default=str) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise WorkerError(f"{self.name} worker exited (code {process.wait()}); "
                              "see its messages above")
        from ct_spatial_bench.secrets import redact

        reply = redact(json.loads(line))  # answers and errors as the worker sent them, keys out
        if not reply.get("ok"):
            raise WorkerError(reply.get("error", "unknown worker error"))
        return reply

    def _file_of(self, image: Any) -> str | None:
        """Write each volume's input once; its questions arrive together."""
        if image is None:
            return None
        if self._image_file[0] is image:
            return self._image_file[1]
        if self._image_file[1]:
            os.unlink(self._image_file[1])
        self._written += 1  # a new name per volume: the worker caches by path
        stem = os.path.join(self._tmp.name, f"volume_{self._written}")
        if hasattr(image, "affine") and hasattr(image, "dataobj"):
            import nibabel as nib

            path = stem + ".nii.gz"
            nib.save(image, path)
        else:
            import numpy as np

            path = stem + ".npy"
            np.save(path, np.asarray(image), allow_pickle=False)
        self._image_file = (image, path)
        return path
