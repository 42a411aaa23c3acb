"""Project settings: Kedro defaults, with conf/base as the sanity split and conf/full beside it."""

import warnings

from kedro.config import OmegaConfigLoader

from ct_spatial_bench.hooks import ModelConfigurationHook, ProvenanceHook, SecretRedactionHook

# Stops a run at once when a selected model has no checkpoint configured; every run writes a
# provenance manifest to data/08_reporting/manifests/; no log record shows an API key.
HOOKS = (SecretRedactionHook(), ModelConfigurationHook(), ProvenanceHook())

# Kedro 1.7 registers its resolvers through an API that omegaconf 2.4 deprecates; the warning,
# three times per command, is about Kedro's code, not this project's configuration.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # --env full overrides single parameters (say one path) without restating a whole block.
    "merge_strategy": {"parameters": "soft"},
}
