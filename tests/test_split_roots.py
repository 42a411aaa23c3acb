"""The two splits never share an output: under --env full every dataset a run can write, and
every output path in the parameters, lies under data/full (conf/full/globals.yml run_root)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.project import make_scratch_project


def _strings(tree, where=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _strings(value, f"{where}[{i}]")
    elif isinstance(tree, str):
        yield where, tree


@pytest.fixture(scope="module")
def full_context(tmp_path_factory):
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = tmp_path_factory.mktemp("roots")
    make_scratch_project(root)
    bootstrap_project(root)
    with KedroSession.create(project_path=root, env="full") as session:
        context = session.load_context()
        names = set().union(*(p.datasets() for p in pipelines.values()))
        yield root, context, names


def test_every_writable_dataset_of_the_full_split_is_under_data_full(full_context):
    from ct_spatial_bench.run_guards import dataset_location

    root, context, names = full_context
    catalog, outside = context.catalog, []
    # the offline judge's model ships inside the package, the same for both splits
    names = names - {"offline_judge.model_artefact"}
    for name in sorted(names):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        location = dataset_location(dataset)
        read_only = dataset._describe().get("read_only") or dataset._describe().get(
            "dataset_config", {}).get("read_only")
        if location and not read_only and (root / "data" / "full") not in Path(location).parents:
            outside.append(f"{name}: {location}")
    assert outside == []


def test_every_output_path_in_the_full_parameters_is_under_data_full(full_context):
    _, context, _ = full_context
    inputs = {"preprocessing.ct_rate_metadata"}  # read, never written
    stray = [f"{where}: {value}" for where, value in _strings(context.params)
             if value.startswith("data/") and not value.startswith("data/full/")
             and where not in inputs]
    assert stray == []
