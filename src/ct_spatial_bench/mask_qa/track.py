"""A split's label maps -> its mask questions, and the phantoms' prior for the blind baseline."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from .leaks import drop_leaks
from .measure import LabelMapError, measure_volume
from .questions import Skips, balance, mirrored_twins, volume_questions
from .tables import LabelTable

logger = logging.getLogger(__name__)


def maps_by_volume(partitions: Mapping[str, Callable[[], Any]]) -> dict[str, dict[str, Callable]]:
    """``{'<volume>/<map>': loader}`` -> ``{volume: {map: loader}}`` (volume may hold slashes)."""
    out: dict[str, dict[str, Callable]] = {}
    for key, loader in partitions.items():
        volume, _, name = key.rpartition("/")
        if volume:
            out.setdefault(volume, {})[name] = loader
    return out


def folder_of(table: LabelTable, key: str) -> str:
    """The folder of a volume's maps: the table's pattern over its key and file name."""
    return table.folder.format(key=key, name=key.rsplit("/", 1)[-1])


def split_questions(volumes: list[dict[str, str]], maps: dict[str, dict[str, Callable]],
                    table: LabelTable, margins: dict[str, float], seed: int = 0,
                    balanced: bool = True, leak_free: bool = True
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Questions about every volume that has label maps, without within-case leaks, balanced,
    plus the laterality twins.

    ``volumes``: ``{'case_id', 'image_path', 'key'}`` rows; ``key`` names the volume's folder of
    maps. A volume without maps, or whose maps cannot be measured, is skipped with its reason.
    ``leak_free`` False keeps relations whose answer follows from the case's others (to test
    the candidates themselves).
    """
    skips = Skips()
    items: list[dict[str, Any]] = []
    for volume in volumes:
        own = maps.get(folder_of(table, volume["key"]))
        if not own:
            skips.add(volume["case_id"], "*", "no label map", volume["key"])
            continue
        try:
            measured = measure_volume(lambda name: own[name](), set(own), table, volume["key"])
        except LabelMapError as exc:
            skips.add(volume["case_id"], "*", f"unmeasurable: {exc}", volume["key"])
            logger.warning("mask_qa: %s", exc)
            continue
        items += volume_questions(volume, measured, margins, skips)
    if balanced:  # first: a relation that can never balance does not crowd out one that can
        items = balance(items, skips, seed)
    if leak_free:
        items = drop_leaks(items, skips, seed)
    if balanced:
        items = balance(items, skips, seed)
    items += mirrored_twins(items)
    unused = sorted(set().union(*maps.values()) - table.maps) if maps else []
    if unused:
        logger.info("mask_qa: maps the table %r does not use: %s", table.name, unused[:10])
    never = sorted(m for m in table.maps if not any(m in own for own in maps.values()))
    if maps and never:
        logger.warning("mask_qa: no volume has the maps %s that table %r names", never, table.name)
    return items, skips.rows


def skip_counts(skips: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(f"{s['family']}:{s['reason']}" for s in skips))


def phantom_prior_questions(n_cases: int, first_index: int, table: LabelTable,
                            margins: dict[str, float], seed: int = 0,
                            **split_params: Any) -> list[dict[str, Any]]:
    """Mask questions about phantoms drawn after the split's own, never asked (unbalanced: the
    answers' natural rates): the blind baseline's prior for this track."""
    from ct_spatial_bench.synthetic.label_maps import case_label_maps
    from ct_spatial_bench.synthetic.phantom import generate_case

    items: list[dict[str, Any]] = []
    grid = {k: tuple(v) for k, v in split_params.items() if k in ("shape", "spacing")}
    for index in range(first_index, first_index + n_cases):
        case = generate_case(index, seed=seed, render=False, **grid)  # only its label maps
        images = case_label_maps(case)
        measured = measure_volume(images.__getitem__, set(images), table, case.key)
        volume = {"case_id": case.case_id, "image_path": case.case_id, "key": case.key}
        items += volume_questions(volume, measured, margins, Skips())
    return items
