"""Shards cover every item exactly once and keep a volume's questions together; merging joins
parts by qa_id whatever their order, and refuses incomplete or overlapping sets."""

from __future__ import annotations

import random

import pytest

from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset
from ct_spatial_bench.sharding import (
    PredictionPart,
    ShardError,
    merge_parts,
    part_name,
    select_shard,
    shard_checkpoint,
)


def _items(n_volumes: int = 37, per_volume: int = 6) -> list[dict]:
    items = [{"qa_id": f"v{v}.nii.gz::{q}", "image_path": f"v{v}/v{v}.nii.gz"}
             for v in range(n_volumes) for q in range(per_volume)]
    items += [{"qa_id": f"text::{i}", "image_path": ""} for i in range(11)]  # no image
    return items


@pytest.mark.parametrize("num_shards", [1, 2, 3, 4, 7, 16, 64])
@pytest.mark.parametrize("by", ["volume", "qa_id"])
def test_every_item_is_in_exactly_one_shard(num_shards, by):
    items = _items()
    shards = [select_shard(items, i, num_shards, by) for i in range(num_shards)]
    ids = [item["qa_id"] for shard in shards for item in shard]
    assert sorted(ids) == sorted(i["qa_id"] for i in items)
    assert len(ids) == len(set(ids))
    for shard in shards:  # each shard keeps the questions' order
        positions = [items.index(item) for item in shard]
        assert positions == sorted(positions)


def test_a_volume_stays_in_one_shard_and_shards_are_stable():
    items = _items()
    shard_of_volume = {}
    for index in range(5):
        for item in select_shard(items, index, 5):
            if item["image_path"]:
                assert shard_of_volume.setdefault(item["image_path"], index) == index
    # the same split on a rerun, and for a shuffled copy of the questions
    shuffled = random.Random(1).sample(items, len(items))
    assert {i["qa_id"] for i in select_shard(shuffled, 2, 5)} == {
        i["qa_id"] for i in select_shard(items, 2, 5)}


def test_bad_shard_numbers_are_refused():
    with pytest.raises(ValueError, match="shard_index"):
        select_shard(_items(), 2, 2)


def _parts(items, num_shards):
    return {part_name(i, num_shards): [{"qa_id": it["qa_id"], "prediction": it["qa_id"][::-1]}
                                       for it in select_shard(items, i, num_shards)]
            for i in range(num_shards)}


@pytest.mark.parametrize("seed", range(5))
def test_merge_is_order_independent(seed):
    items = _items()
    expected = [i["qa_id"] for i in items]
    parts = _parts(items, 4)
    rng = random.Random(seed)
    shuffled = {name: rng.sample(rows, len(rows))
                for name, rows in rng.sample(list(parts.items()), len(parts))}
    merged = merge_parts(shuffled, expected)
    assert [row["qa_id"] for row in merged] == expected
    assert merged == merge_parts(parts, expected)


def test_merge_refuses_missing_duplicate_and_stale_parts():
    items = _items()
    expected = [i["qa_id"] for i in items]
    parts = _parts(items, 3)
    with pytest.raises(ShardError, match="missing part"):
        merge_parts({k: v for k, v in parts.items() if k != "shard-1-of-3"}, expected)
    doubled = {**parts, "shard-2-of-3": parts["shard-2-of-3"] + parts["shard-0-of-3"][:1]}
    with pytest.raises(ShardError, match="in both"):
        merge_parts(doubled, expected)
    short = {**parts, "shard-0-of-3": parts["shard-0-of-3"][1:]}
    with pytest.raises(ShardError, match="no prediction"):
        merge_parts(short, expected)
    with pytest.raises(ShardError, match="stale"):
        merge_parts(parts, expected[1:])
    with pytest.raises(ShardError, match="several shard counts"):
        merge_parts({**parts, **_parts(items, 2)}, expected)
    assert len(merge_parts({**parts, **_parts(items, 2)}, expected, num_shards=2)) == len(items)


def test_each_shard_has_its_own_checkpoint():
    assert shard_checkpoint("ck/geometry.jsonl", 0, 1) == "ck/geometry.jsonl"
    assert shard_checkpoint("ck/geometry.jsonl", 1, 4) == "ck/geometry.shard-1-of-4.jsonl"


def test_a_part_is_saved_beside_the_merged_file(tmp_path):
    dataset = PredictionsDataset(str(tmp_path / "p" / "m.jsonl"), str(tmp_path / "parts" / "m"))
    dataset.save(PredictionPart([{"qa_id": "a"}], 1, 2))
    assert not (tmp_path / "p" / "m.jsonl").exists()
    assert (tmp_path / "parts" / "m" / "shard-1-of-2.jsonl").read_text() == '{"qa_id": "a"}\n'
    dataset.save([{"qa_id": "b"}])
    assert dataset.load() == [{"qa_id": "b"}]
