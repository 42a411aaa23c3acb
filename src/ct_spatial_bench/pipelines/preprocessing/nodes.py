"""Nodes that turn each unique volume into every input format the selected models ask for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def preprocess_volumes(
    qa_items: list[dict[str, Any]],
    raw_volumes: dict[str, Callable[[], Any]],
    params: dict[str, Any],
    spec_names: tuple[str, ...],
) -> tuple:
    """Decode each volume the benchmark asks about once and apply every spec to it.

    Volumes are processed by ``params["workers"]`` processes (1: in this process; null: one per
    CPU); each finished output is written at once under ``params["output_dir"]/<spec>/`` (the
    folders of the ``model_inputs_<spec>`` datasets), so memory holds one volume per worker and
    a rerun makes only what is missing. The ``model_inputs_<spec>`` outputs therefore receive no
    further partitions here (an empty dict saves nothing); they are the read side for inference.
    The last output is a manifest row per volume (source orientation, shape, spacing, the specs
    made and reused, seconds, where spacing and rescale came from, and an error where it could
    not be read); a bad volume is logged and recorded, and the other volumes go on.
    ``params["ct_rate_metadata"]``: CT-RATE's metadata CSV, for volumes whose headers lack spacing
    or rescale (the "fixed" release carries them; then leave it null).
    """
    from pathlib import Path

    from ct_spatial_bench.imaging.batch import OutputTarget, preprocess_all
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.records import volume_key

    output_dir = Path(params.get("output_dir", "data/05_model_input"))
    targets = [OutputTarget(InputSpec.from_params(name, params["specs"][name]), output_dir / name)
               for name in spec_names]
    prefix = params.get("volume_path_prefix", "")
    keys = sorted({volume_key(item["image_path"], prefix) for item in qa_items})
    jobs = [(key, raw_volumes.get(key)) for key in keys]
    metadata = None
    if params.get("ct_rate_metadata"):
        from ct_spatial_bench.imaging.ct_rate import load_ct_rate_metadata

        metadata = load_ct_rate_metadata(params["ct_rate_metadata"])
    manifest = preprocess_all(jobs, targets, workers=params.get("workers", 1),
                              backend=params.get("gzip_backend"), ct_rate_metadata=metadata)
    failed = sum(r["status"] == "error" for r in manifest)
    made = sum(bool(r["made"]) for r in manifest)
    logger.info("preprocessing: %d volumes (%d made, %d already done, %d failed), specs %s",
                len(keys), made, len(keys) - made - failed, failed, spec_names)
    return (*[{} for _ in spec_names], manifest)
