"""The read-only guard shared by the project's datasets (atomic writes live in ``fileio``)."""

from __future__ import annotations

import os


def refuse_if_read_only(read_only: bool, filepath: str | os.PathLike, what: str) -> None:
    from kedro.io.core import DatasetError

    if read_only:
        raise DatasetError(
            f"{what} at {filepath} is read-only in this environment: it is source data, "
            "and nothing in the run may overwrite it (in --env full run "
            "`--pipelines benchmark`, which leaves out sanity_data)."
        )
