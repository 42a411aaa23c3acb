"""One input spec's model inputs: a file per volume, kept once made, stamped with the spec."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from kedro_datasets.partitions import PartitionedDataset

from ct_spatial_bench.imaging.batch import SpecPartitions

logger = logging.getLogger(__name__)

STAMP_FILE = ".spec.json"
SOURCES_FILE = ".sources.json"  # volume key -> fingerprint of the source volume it was made from


class ModelInputsDataset(PartitionedDataset):
    """A ``PartitionedDataset`` (volume key -> file) for outputs that a node streams in chunks
    and a rerun completes, never redoes.

    Saving:

    - a partition already present is kept: its value is never materialised (a lazy callable is
      not called) and its file not rewritten;
    - the others are written by the partition dataset (the project's ``NiftiDataset`` and
      ``NpyDataset`` write through a temporary file and a rename), on up to ``save_threads``
      threads at once (default: one per CPU; compressing and writing release the GIL);
    - a ``SpecPartitions`` carries the fingerprint of the spec that made it. The folder keeps it
      in ``.spec.json``; saving under another fingerprint first deletes the partitions made under
      the old one (or under none), so an input made by a changed spec never survives.

    - a ``SpecPartitions``' ``sources`` (the source volume's size, mtime and content hash per
      volume key) are kept in ``.sources.json``, so a volume replaced or truncated after its input
      was made is seen as changed and its input made again.

    Loading returns ``SpecPartitions`` (``{volume key: load}``, as ``PartitionedDataset``) with the
    folder's fingerprint and sources. Hidden files (an interrupted write's temporary) are not partitions, and
    those a killed run left are deleted on load and before saving (``fileio.remove_orphans``).

    Example catalog entry::

        "model_inputs_{spec}":
          type: ct_spatial_bench.datasets.ModelInputsDataset
          path: data/05_model_input/{spec}
          dataset: ct_spatial_bench.datasets.NiftiDataset
          filename_suffix: .nii.gz
    """

    def __init__(  # noqa: PLR0913 - PartitionedDataset's arguments, less overwrite
        self,
        path: str,
        dataset: str | type | dict[str, Any],
        filename_suffix: str = "",
        filepath_arg: str = "filepath",
        credentials: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        save_threads: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        # No ``overwrite``: each streamed chunk would delete the chunks saved before it.
        super().__init__(path=path, dataset=dataset, filename_suffix=filename_suffix,
                         filepath_arg=filepath_arg, credentials=credentials,
                         load_args=load_args, fs_args=fs_args, metadata=metadata)
        self._save_threads = save_threads

    def load(self) -> SpecPartitions:
        self._remove_orphans()
        return SpecPartitions(super().load(), fingerprint=self.fingerprint(),
                              sources=self.sources())

    def _remove_orphans(self) -> None:
        from ct_spatial_bench.fileio import remove_orphans

        removed = remove_orphans(self._folder())
        if removed:
            logger.warning("%s: removed %d temporary files left by a killed run", self._path,
                           len(removed))

    def save(self, data: dict[str, Any]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._remove_orphans()

        fingerprint = getattr(data, "fingerprint", None)
        if fingerprint is not None and fingerprint != self.fingerprint():
            self._restamp(fingerprint)
        sources = getattr(data, "sources", None) or {}
        recorded = self.sources()
        # A volume whose source changed is written again, over its old input; one that could
        # not be made from its new source loses its old input (it is no longer that volume's).
        changed = {key for key, fp in sources.items()
                   if key in recorded and recorded[key].get("sha256") != fp.get("sha256")}
        for key in sorted(changed - set(data)):
            if self._filesystem.exists(self._partition_to_path(key)):
                logger.warning("%s: %s changed and could not be made again; its old input is "
                               "deleted", self._path, key)
                self._filesystem.rm(self._partition_to_path(key))
        todo = [{key: value} for key, value in sorted(data.items())
                if key in changed or not self._filesystem.exists(self._partition_to_path(key))]
        threads = min(len(todo), self._save_threads or os.cpu_count() or 1)
        if threads <= 1:
            for partition in todo:
                PartitionedDataset.save(self, partition)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(lambda partition: PartitionedDataset.save(self, partition), todo))
        if sources:
            self._filesystem.pipe_file(self._sources_path(), (json.dumps(
                {**recorded, **sources}, sort_keys=True) + "\n").encode())
        self._invalidate_caches()

    def sources(self) -> dict[str, dict[str, Any]]:
        """Per volume key, the fingerprint of the source its input was made from ({} if none)."""
        try:
            recorded = json.loads(self._filesystem.cat_file(self._sources_path()))
        except (FileNotFoundError, ValueError):
            return {}
        return recorded if isinstance(recorded, dict) else {}

    def _sources_path(self) -> str:
        return f"{self._folder()}{self._sep}{SOURCES_FILE}"

    def fingerprint(self) -> str | None:
        """The fingerprint stamped in the folder: None when there is none (or it is unreadable)."""
        try:
            stamp = json.loads(self._filesystem.cat_file(self._stamp_path()))
        except FileNotFoundError:
            return None
        except ValueError:  # a torn stamp: its partitions' spec is unknown
            return None
        return stamp.get("fingerprint") if isinstance(stamp, dict) else None

    def _restamp(self, fingerprint: str) -> None:
        self._invalidate_caches()
        stale = self._list_partitions()
        if stale:
            logger.warning("%s: %d inputs were made by another version of the spec; "
                           "deleting them to make them again", self._path, len(stale))
        for path in stale:
            self._filesystem.rm(path)
        if self._filesystem.exists(self._sources_path()):
            self._filesystem.rm(self._sources_path())
        self._filesystem.makedirs(self._folder(), exist_ok=True)
        self._filesystem.pipe_file(self._stamp_path(),
                                   (json.dumps({"fingerprint": fingerprint}) + "\n").encode())
        self._invalidate_caches()

    def _list_partitions(self) -> list[str]:
        return [path for path in super()._list_partitions()
                if not path.rsplit(self._sep, 1)[-1].startswith(".")]

    def _folder(self) -> str:
        return self._filesystem._strip_protocol(self._normalized_path).rstrip(self._sep)

    def _stamp_path(self) -> str:
        return f"{self._folder()}{self._sep}{STAMP_FILE}"

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "save_threads": self._save_threads}
