"""One switch, ``protocol``, for how every LLM stage asks and how verdicts are aggregated.

``project`` (the default) is this project's own way: its prompts, one item per judge call, the
jury rule of ``metrics.jury_rule``. ``upstream`` makes each LLM stage send what CT-SpatialVQA's
scripts send (judges, QA generation, the spatial and relevance filter, the category tagger) and
scores the jury as upstream did, so a new model's figure can stand next to the published table:

    kedro run --env full --params protocol=upstream

The upstream settings are the parameter group ``upstream_protocol`` (conf/base/
parameters_protocol.yml): one block per stage, merged over that stage's parameters when the
protocol is ``upstream`` (dicts key by key, anything else replaced), before the parameters
given on the command line, which still win. The switch sets *how* a stage asks, never *whether*
it runs: ``qa_generation.generator: llm`` and ``qa_filtering.spatial_filter: llm`` still choose
to call an LLM at all.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

PROTOCOLS = ("project", "upstream")
UPSTREAM_GROUP = "upstream_protocol"


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` merged in: mappings key by key, anything else replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def protocol_of(params: Mapping[str, Any]) -> str:
    """The run's protocol; an unknown one is a configuration error naming the choices."""
    protocol = params.get("protocol") or "project"
    if protocol not in PROTOCOLS:
        raise ConfigurationError(f"protocol {protocol!r} is not one of {list(PROTOCOLS)} "
                                 "(set it with --params protocol=upstream)")
    return protocol


def apply_protocol(params: Mapping[str, Any],
                   command_line: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``params`` as the protocol says: under ``upstream`` each stage's block of
    ``upstream_protocol`` merged over that stage's parameters, then ``command_line`` (the
    ``--params`` given) merged over the result, so what a user types still wins."""
    protocol = protocol_of(params)
    if protocol == "project":
        return dict(params)
    overlay = params.get(UPSTREAM_GROUP)
    if not isinstance(overlay, Mapping):
        raise ConfigurationError(f"protocol upstream needs the parameter group {UPSTREAM_GROUP!r}"
                                 " (conf/base/parameters_protocol.yml)")
    merged = deep_merge(params, overlay)
    return deep_merge(merged, command_line or {})
