"""Every input spec's model inputs as one dataset: ``{spec: load}``.

Preprocessing reads what each ``model_inputs_<spec>`` already holds before it writes there (Kedro
lets no node read its own output); one dataset for all the specs keeps that to one node input,
however many specs the models need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro.io import AbstractDataset

SPEC = "{spec}"


class AllModelInputsDataset(AbstractDataset[dict[str, Any], dict[str, Callable[[], Any]]]):
    """One ``ModelInputsDataset`` (or any dataset: its catalog config) per input spec.

    - ``specs``: spec name -> that spec's dataset config, for specs stored apart;
    - ``default``: the config of every other spec, with ``{spec}`` in its ``path`` (the catalog's
      ``"model_inputs_{spec}"`` factory entry); its specs are the folders found in the ``path``'s
      parent.

    Loading returns, as ``PartitionedDataset`` does, ``{spec: load}`` for every spec whose
    dataset exists (has inputs): ``load()`` loads that spec's dataset, so a folder beside the
    specs' (a spec no model reads now) is listed, never loaded. A spec without inputs is absent.
    Saving ``{spec: data}`` saves each spec's data with its dataset.

    Example catalog entry::

        existing_model_inputs:
          type: ct_spatial_bench.datasets.AllModelInputsDataset
          default:
            type: ct_spatial_bench.datasets.ModelInputsDataset
            path: data/05_model_input/{spec}
            dataset: ct_spatial_bench.datasets.NpyDataset
            filename_suffix: .npy
          specs:
            ras_hu:
              type: ct_spatial_bench.datasets.ModelInputsDataset
              path: data/05_model_input/ras_hu
              dataset: ct_spatial_bench.datasets.NiftiDataset
              filename_suffix: .nii.gz
    """

    def __init__(self, specs: dict[str, dict[str, Any]] | None = None,
                 default: dict[str, Any] | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        if default is not None and SPEC not in str(default.get("path", "")):
            raise ValueError(f"AllModelInputsDataset: default's path must contain {SPEC} (the "
                             f"spec's folder), got {default.get('path')!r}")
        self._specs = {name: dict(config) for name, config in (specs or {}).items()}
        self._default = dict(default) if default is not None else None
        self.metadata = metadata

    def _dataset(self, spec: str) -> AbstractDataset:
        from kedro.io.core import parse_dataset_definition

        if spec in self._specs:
            config = dict(self._specs[spec])
        elif self._default is not None:
            config = {**self._default, "path": self._default["path"].replace(SPEC, spec)}
        else:
            raise KeyError(f"AllModelInputsDataset: no dataset for spec {spec!r} (no default)")
        cls, kwargs = parse_dataset_definition(config)
        return cls(**kwargs)

    def _default_specs(self) -> list[str]:
        """The folders beside the default's ``{spec}`` folder: one per spec made there."""
        from fsspec.core import url_to_fs

        if self._default is None:
            return []
        head, _, tail = self._default["path"].partition(SPEC)
        if tail.strip("/") or not head.endswith("/"):
            raise ValueError(f"AllModelInputsDataset: {SPEC} must be the default path's last "
                             f"folder, got {self._default['path']!r}")
        filesystem, root = url_to_fs(head)
        if not filesystem.isdir(root):
            return []
        return sorted(entry["name"].rstrip("/").rsplit("/", 1)[-1]
                      for entry in filesystem.ls(root, detail=True)
                      if entry["type"] == "directory")

    def _load(self) -> dict[str, Callable[[], Any]]:
        return {spec: self._dataset(spec).load for spec in self._existing_specs()}

    def _save(self, data: dict[str, Any]) -> None:
        for spec, value in data.items():
            self._dataset(spec).save(value)

    def _exists(self) -> bool:
        return bool(self._existing_specs())

    def _existing_specs(self) -> list[str]:
        return [spec for spec in sorted({*self._specs, *self._default_specs()})
                if self._dataset(spec).exists()]

    def _describe(self) -> dict[str, Any]:
        return {"specs": sorted(self._specs), "default": self._default}
