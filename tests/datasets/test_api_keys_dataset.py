import pytest
from kedro.io import DataCatalog, DatasetError

CONFIG = {"llm_api_keys": {
    "type": "ct_spatial_bench.datasets.api_keys_dataset.ApiKeysDataset",
    "providers": {"openai": {"credentials": "openai"}, "gemini": {"credentials": "gemini"}}}}


def test_keys_come_from_credentials_and_are_never_described():
    credentials = {"openai": {"api_key": "sk-secret"}, "gemini": {"api_key": None}}
    catalog = DataCatalog.from_config(CONFIG, credentials=credentials)
    assert catalog.load("llm_api_keys") == {"openai": "sk-secret", "gemini": None}
    dataset = catalog["llm_api_keys"]
    assert "sk-secret" not in repr(dataset) and "sk-secret" not in str(dataset._describe())
    with pytest.raises(DatasetError, match="never saved"):
        catalog.save("llm_api_keys", {})
