"""API keys from conf credentials, handed to a node without ever being logged or saved."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError


class ApiKeysDataset(AbstractDataset[None, dict[str, Any]]):
    """Loads ``{entry: key or None}`` for credentials entries named under ``providers``.

    Kedro resolves every nested ``credentials: <entry>`` from credentials.yml, whose values read
    the environment (``${oc.env:OPENAI_API_KEY,null}``), so keys never sit in the catalog::

        llm_api_keys:
          type: ct_spatial_bench.datasets.api_keys_dataset.ApiKeysDataset
          providers:
            openai: {credentials: openai}
            gemini: {credentials: gemini}

    Its description says only which keys are set, never their values. It cannot be saved.
    """

    def __init__(self, providers: dict[str, dict[str, Any]],
                 metadata: dict[str, Any] | None = None) -> None:
        self._keys = {name: (entry or {}).get("credentials") for name, entry in providers.items()}
        self.metadata = metadata

    @staticmethod
    def _key(credentials: Any) -> str | None:
        if isinstance(credentials, dict):
            return credentials.get("api_key") or None
        return None  # an unresolved entry name: no such credentials

    def _load(self) -> dict[str, Any]:
        from ct_spatial_bench.secrets import register_secret

        keys = {name: self._key(credentials) for name, credentials in self._keys.items()}
        for key in keys.values():
            register_secret(key)  # removed by value from every text the run keeps
        return keys

    def _save(self, data: None) -> None:
        raise DatasetError("API keys are read from the environment, never saved")

    def _describe(self) -> dict[str, Any]:
        return {name: ("set" if self._key(c) else "absent") for name, c in self._keys.items()}
