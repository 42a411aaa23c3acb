"""Is a model's checkpoint where its settings say, before anything runs?

A wrong local path used to run preprocessing and then fail inside ``from_pretrained`` with a
500-line traceback ("Repo id must be in the form ..."). Each adapter class declares what its
settings point at (``ModelAdapter.checkpoint_files``: a folder or file that must hold one of the
named files; ``ModelAdapter.code_folders``: the authors' code checkouts), and this module checks
them in a few filesystem calls:

- a value that exists on disk, or looks like a path (``/``, ``./``, ``~``, more than one ``/``),
  is a local path: it must exist and, for a folder, hold one of the named files;
- anything else is a hub id: it must be well formed (``owner/name``), and with
  ``HF_HUB_OFFLINE=1`` its first named file must be in the Hugging Face cache;
- ``code_folders`` settings, when set, must be existing folders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_TRUE = {"1", "on", "yes", "true"}


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def looks_local(value: str) -> bool:
    """A path, not a hub id: it exists, or its spelling can only be a path."""
    return (os.path.exists(value) or value.startswith(("/", "./", "../", "~", "\\"))
            or value.count("/") > 1 or value.endswith("/") or os.sep == "\\" and "\\" in value)


def local_problem(setting: str, value: str, files: tuple[str, ...]) -> str | None:
    path = Path(os.path.expanduser(value))
    if not path.exists():
        return f"{setting} = {value} does not exist"
    if path.is_dir() and files and not any((path / name).exists() for name in files):
        return (f"{setting} = {value} is a folder without {' or '.join(files)} "
                "(not a checkpoint folder, or its parent)")
    return None


def hub_problem(setting: str, value: str, files: tuple[str, ...], revision: str | None) -> str | None:
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(value)
    except HFValidationError:
        return (f"{setting} = {value} is neither an existing path nor a hub id of the form "
                "owner/name")
    if offline() and files:
        cached = try_to_load_from_cache(value, files[0], revision=revision)
        if not isinstance(cached, str):
            return (f"{setting} = {value} is not in the Hugging Face cache and HF_HUB_OFFLINE=1 "
                    f"forbids downloading it (huggingface-cli download {value} on a machine "
                    "with internet, or point it at a local folder)")
    return None


def checkpoint_problems(model: str, adapter_cls: type, config: dict[str, Any]) -> list[str]:
    """What is wrong with the checkpoint and code settings of one model (empty: nothing)."""
    if config.get("factory"):  # stand-ins handed in by tests load nothing from these settings
        return []
    problems = []
    for setting, (files, hub_allowed) in adapter_cls.checkpoint_files.items():
        value = config.get(setting)
        if not value:
            continue
        value = str(value)
        if looks_local(value) or not hub_allowed:
            problem = local_problem(setting, value, files)
        else:
            problem = hub_problem(setting, value, files, config.get("revision"))
        if problem:
            problems.append(problem)
    for setting in adapter_cls.code_folders:
        value = config.get(setting)
        if value and not Path(os.path.expanduser(str(value))).is_dir():
            problems.append(f"{setting} = {value} (the authors' code) is not a folder")
    return [f"{model}.inference.config.{problem}" for problem in problems]
