"""Label tables as data: the built-in ones load, bad ones say what is wrong."""

from __future__ import annotations

import pytest

from ct_spatial_bench.mask_qa.tables import LabelTableError, load_label_table, parse_label_table
from ct_spatial_bench.mask_qa.track import folder_of

# TotalSegmentator v2 class names, as its README's class list spells them (typed from it here,
# not read from our table), and the lung_nodules task's class.
TOTALSEGMENTATOR_V2 = {
    "heart", "aorta", "trachea", "esophagus", "spinal_cord", "liver", "spleen", "stomach",
    "kidney_right", "kidney_left", "lung_upper_lobe_left", "lung_lower_lobe_left",
    "lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right",
    *{f"vertebrae_T{i}" for i in range(1, 13)}, "lung_nodules",
}


@pytest.mark.parametrize("name", ["phantom", "totalsegmentator"])
def test_built_in_tables_load_with_sides_and_lobes(name):
    table = load_label_table(name)
    lobes = table.of_kind("lobe")
    assert len(lobes) == 5
    assert {s.side for s in lobes} == {"right", "left"}
    assert all(table.structures[s.pair].pair == s.key for s in table.structures.values() if s.pair)


def test_totalsegmentator_table_uses_its_class_names():
    assert load_label_table("totalsegmentator").maps <= TOTALSEGMENTATOR_V2


def test_radgenome_table_reads_its_region_folders():
    table = load_label_table("radgenome")
    # region names as loaders of RadGenome-ChestCT's region masks read them (one file each)
    assert table.maps <= {"abdomen", "bone", "breast", "esophagus", "heart", "lung", "mediastinum",
                          "pleura", "thyroid", "trachea and bronchie"}
    assert not table.of_kind("lobe")
    assert folder_of(table, "valid_1/valid_1_a_1") == "seg_valid_1_a_1"
    assert folder_of(load_label_table("totalsegmentator"), "valid_1/valid_1_a_1") == \
        "valid_1/valid_1_a_1"


def test_a_user_table_from_a_file(tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text("midline: [cord]\nstructures:\n"
                    "  cord: {kind: organ, side: midline, masks: [{map: seg, values: [3]}]}\n")
    table = load_label_table(str(path))
    assert table.structures["cord"].masks == (("seg", (3,)),)


@pytest.mark.parametrize("raw,message", [
    ({"structures": {"x": {"kind": "bone", "side": "left", "masks": [{"map": "m"}]}},
      "midline": ["x"]}, "'x': kind 'bone'"),
    ({"structures": {"x": {"kind": "organ", "side": "left", "masks": [{"map": "m"}]}}},
     "midline"),
    ({"structures": {"x": {"kind": "organ", "side": "up", "masks": [{"map": "m"}]}},
      "midline": ["x"]}, "side 'up'"),
])
def test_bad_tables_name_the_problem(raw, message):
    with pytest.raises(LabelTableError, match=message):
        parse_label_table(raw, "t.yml")


def test_an_unknown_table_name_is_a_short_error():
    with pytest.raises(LabelTableError, match="neither a built-in"):
        load_label_table("no_such_table")
