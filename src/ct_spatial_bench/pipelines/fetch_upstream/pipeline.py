"""``fetch_upstream``: CT-SpatialVQA's public files from the upstream repository at a pinned
commit, checked by size and SHA-256, into ``fetch_upstream.target_dir`` (= ``reproduce``'s
default ``source_dir``). Not part of ``__default__``: it needs the network.

    kedro run --pipelines fetch_upstream
    kedro run --pipelines reproduce
"""

from kedro.pipeline import Pipeline, node

from .nodes import fetch_upstream


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(fetch_upstream, "params:fetch_upstream", "upstream_files_fetched",
             name="fetch_upstream"),
    ])
