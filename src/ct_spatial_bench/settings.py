"""Project settings: Kedro defaults, with conf/base as the sanity split and conf/full beside it."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # --env full overrides single parameters (say one path) without restating a whole block.
    "merge_strategy": {"parameters": "soft"},
}
