"""Project settings: Kedro defaults, with conf/base as the sanity split and conf/full beside it."""

import warnings

from kedro.config import OmegaConfigLoader

from ct_spatial_bench.hooks import ProvenanceHook, SecretRedactionHook
from ct_spatial_bench.run_guards import ArtifactStampHook, PreflightHook

# No log record shows an API key; checks inputs, volumes, checkpoints and judge keys before any
# node (and prints the plan); stamps every artifact with its split and QA fingerprint (and refuses
# one of another QA set); every run writes a provenance manifest to
# <run_root>/08_reporting/manifests/.
_ARTIFACT_STAMPS = ArtifactStampHook()
HOOKS = (SecretRedactionHook(), PreflightHook(), _ARTIFACT_STAMPS,
         ProvenanceHook(artifact_stamps=_ARTIFACT_STAMPS))

# Kedro 1.7 registers its resolvers through an API that omegaconf 2.4 deprecates; the warning,
# three times per command, is about Kedro's code, not this project's configuration.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")



class ProtocolConfigLoader(OmegaConfigLoader):
    """Kedro's loader, with the parameters as ``protocol`` says (ct_spatial_bench.protocol):
    under ``--params protocol=upstream`` every stage's parameters take upstream's settings, so the
    preflight, a dry run's price and every node see the same resolved values."""

    def __getitem__(self, key: str):
        config = super().__getitem__(key)
        if key != "parameters":
            return config
        from ct_spatial_bench.protocol import apply_protocol

        return apply_protocol(config, self.runtime_params)


CONFIG_LOADER_CLASS = ProtocolConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # --env full overrides single parameters (say one path) without restating a whole block.
    "merge_strategy": {"parameters": "soft"},
}
