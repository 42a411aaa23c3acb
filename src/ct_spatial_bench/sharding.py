"""Split questions into shards by their volume and join the shards' results back, by key.

Inference shards a model's questions, preprocessing the volumes it makes inputs for (one array
task each); both name their parts ``shard-i-of-N``.

A shard is chosen by a stable hash (sha256, not Python's salted ``hash``) of the item's volume,
so every question on a volume lands in the same shard and each volume is loaded by one job only;
items without an image are sharded by ``qa_id``. The same item goes to the same shard on every
machine and in every run, so a rerun of shard i resumes from its own checkpoint. Merging checks
that the parts are one complete set (shards 0..N-1 of the same N), that no ``qa_id`` appears
twice and that every expected item is answered, and orders the result as the questions are
ordered, whatever order the parts came in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PART_NAME = re.compile(r"^shard-(?P<index>\d+)-of-(?P<count>\d+)$")


class ShardError(ValueError):
    """Parts that do not make one complete, duplicate-free set of predictions."""


def shard_key(item: Mapping[str, Any], by: str = "volume") -> str:
    """What an item is sharded by: its volume (``image_path``) or, without one, its ``qa_id``."""
    if by == "volume" and item.get("image_path"):
        return str(item["image_path"])
    if by not in ("volume", "qa_id"):
        raise ValueError(f"shard_by must be 'volume' or 'qa_id', got {by!r}")
    return str(item["qa_id"])


def shard_of(key: str, num_shards: int) -> int:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % num_shards


def check_shard(index: int, num_shards: int) -> None:
    if num_shards < 1 or not 0 <= index < num_shards:
        raise ValueError(f"shard_index must be in 0..num_shards-1 and num_shards >= 1; "
                         f"got shard {index} of {num_shards}")


def asked_items(items: list[dict[str, Any]], max_items: int | None) -> list[dict[str, Any]]:
    """The items a run asks: the first ``max_items`` (a debug cap), or all. An unsharded run, its
    shards and their merge must all agree on this."""
    return items[:max_items] if max_items else items


def select_shard(items: list[dict[str, Any]], index: int, num_shards: int,
                 by: str = "volume") -> list[dict[str, Any]]:
    """The items of shard ``index`` of ``num_shards``, in their original order."""
    check_shard(index, num_shards)
    if num_shards == 1:
        return list(items)
    return [item for item in items if shard_of(shard_key(item, by), num_shards) == index]


def part_name(index: int, num_shards: int) -> str:
    """``shard-0-of-2``: the name of a shard's part file (without ``.jsonl``)."""
    check_shard(index, num_shards)
    return f"shard-{index}-of-{num_shards}"


def shard_checkpoint(path: str | None, index: int, num_shards: int,
                     suffix: str = "") -> str | None:
    """Each shard keeps its own checkpoint (``geometry.jsonl`` -> ``geometry.shard-0-of-2.jsonl``),
    so concurrent jobs never append to one file; ``suffix`` names a twin run's own file beside
    its model's (a blind control's: ``x.jsonl`` -> ``x_blind.jsonl``)."""
    if path and suffix:
        checkpoint = Path(path)
        path = str(checkpoint.with_name(checkpoint.stem + suffix + checkpoint.suffix))
    if not path or num_shards == 1:
        return path
    checkpoint = Path(path)
    return str(checkpoint.with_name(
        f"{checkpoint.stem}.{part_name(index, num_shards)}{checkpoint.suffix}"))


def merge_parts(parts: Mapping[str, list[dict[str, Any]]], expected_ids: list[str],
                num_shards: int | None = None) -> list[dict[str, Any]]:
    """Join shard parts (``{"shard-i-of-N": predictions}``) into one list in ``expected_ids``
    order. ``num_shards`` picks the set when parts of several N are on disk."""
    by_count: dict[int, dict[int, str]] = {}
    for name in parts:
        match = PART_NAME.match(Path(name).name)
        if not match:
            raise ShardError(f"{name!r} is not a shard part name (shard-<i>-of-<n>)")
        by_count.setdefault(int(match["count"]), {})[int(match["index"])] = name
    if num_shards is None:
        if len(by_count) != 1:
            raise ShardError(f"parts of several shard counts {sorted(by_count)} are on disk; "
                             "set num_shards to choose one")
        num_shards = next(iter(by_count))
    found = by_count.get(num_shards, {})
    missing_parts = [part_name(i, num_shards) for i in range(num_shards) if i not in found]
    if missing_parts:
        raise ShardError(f"missing part(s) {missing_parts}: run those shards first")
    merged: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    for index in range(num_shards):
        name = found[index]
        for row in parts[name]:
            qa_id = row["qa_id"]
            if qa_id in merged:
                raise ShardError(f"qa_id {qa_id!r} is in both {origin[qa_id]} and {name}")
            merged[qa_id], origin[qa_id] = row, name
    missing = [qa_id for qa_id in expected_ids if qa_id not in merged]
    if missing:
        raise ShardError(f"{len(missing)} question(s) have no prediction in the parts, "
                         f"e.g. {missing[:3]}: rerun their shards (they resume)")
    unexpected = sorted(set(merged) - set(expected_ids))
    if unexpected:
        raise ShardError(f"{len(unexpected)} prediction(s) answer no current question, "
                         f"e.g. {unexpected[:3]}: the parts are stale; rerun the shards")
    return [merged[qa_id] for qa_id in expected_ids]


class PredictionPart(list):
    """One shard's predictions: a list that knows which shard it is, so the predictions dataset
    writes it as a part (``shard-i-of-N.jsonl``) instead of the merged file."""

    def __init__(self, rows: list[dict[str, Any]], index: int, num_shards: int) -> None:
        super().__init__(rows)
        check_shard(index, num_shards)
        self.shard_index, self.num_shards = index, num_shards

    @property
    def name(self) -> str:
        return part_name(self.shard_index, self.num_shards)
