"""Label tables: what each value of a label map is (side, lobe, organ), as YAML data.

A table names structures; each structure is the union of ``masks`` (a map file and the values in it
that belong to the structure; values default to [1], a binary mask). ``side`` is right, left,
midline, bilateral (one mask over both sides) or unpaired (an unpaired organ or a finding: its
side is measured, not named); ``kind`` is
organ, lung, lobe or finding; ``collection: true`` marks a fluid collection (a pleural effusion),
which gets no lobe count and no diameter; ``pair`` names the structure's counterpart on the other side.
``midline`` lists the structures whose centroid x is the patient's sagittal midline; ``carina`` the
structure whose lowest point is the carina; ``folder`` the name of a volume's folder of maps
(``{key}``: the volume's key, ``{name}``: its file name without suffix). Built-in tables: phantom, totalsegmentator, radgenome;
any other value is read as the path of a user's table. A structure whose map file a volume lacks
(TotalSegmentator's lung_nodules task where it was not run) is simply absent from that volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

BUILT_IN = ("phantom", "totalsegmentator", "radgenome")
SIDES = ("right", "left", "midline", "bilateral", "unpaired")
KINDS = ("organ", "lung", "lobe", "finding")


class LabelTableError(ValueError):
    """A label table that cannot be used; the message names the file and the structure."""


@dataclass(frozen=True)
class Structure:
    key: str
    noun: str
    kind: str
    side: str
    masks: tuple[tuple[str, tuple[int, ...]], ...]
    pair: str | None = None
    collection: bool = False  # a fluid collection (pleural effusion): no lobe count, no diameter

    @property
    def maps(self) -> set[str]:
        return {name for name, _ in self.masks}


@dataclass(frozen=True)
class LabelTable:
    name: str
    structures: dict[str, Structure]
    midline: tuple[str, ...]
    carina: str | None
    folder: str = "{key}"

    @property
    def maps(self) -> set[str]:
        return set().union(*(s.maps for s in self.structures.values()))

    def of_kind(self, *kinds: str) -> list[Structure]:
        return [s for s in self.structures.values() if s.kind in kinds]


def table_path(name_or_path: str) -> Path:
    if name_or_path in BUILT_IN:
        return Path(__file__).parent / "tables" / f"{name_or_path}.yml"
    path = Path(name_or_path)
    if not path.is_file():
        raise LabelTableError(
            f"mask_table {name_or_path!r}: neither a built-in table {list(BUILT_IN)} nor a file")
    return path


def load_label_table(name_or_path: str) -> LabelTable:
    """The table named ``name_or_path`` (built-in) or read from that YAML file."""
    path = table_path(name_or_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse_label_table(raw, str(path))


def parse_label_table(raw: dict[str, Any], where: str = "label table") -> LabelTable:
    entries = raw.get("structures")
    if not isinstance(entries, dict) or not entries:
        raise LabelTableError(f"{where}: no 'structures' mapping")
    structures = {key: _structure(key, spec, where) for key, spec in entries.items()}
    for s in structures.values():
        if s.pair is not None and s.pair not in structures:
            raise LabelTableError(f"{where}: structure {s.key!r} pairs with unknown {s.pair!r}")
    midline = tuple(raw.get("midline") or ())
    carina = raw.get("carina")
    for ref in (*midline, *([carina] if carina else [])):
        if ref not in structures:
            raise LabelTableError(f"{where}: midline/carina names unknown structure {ref!r}")
    if not midline:
        raise LabelTableError(f"{where}: 'midline' must name at least one structure")
    return LabelTable(str(raw.get("name", where)), structures, midline, carina,
                      str(raw.get("folder", "{key}")))


def _structure(key: str, spec: Any, where: str) -> Structure:
    here = f"{where}: structure {key!r}"
    if not isinstance(spec, dict):
        raise LabelTableError(f"{here}: expected a mapping")
    kind, side = spec.get("kind"), spec.get("side")
    if kind not in KINDS:
        raise LabelTableError(f"{here}: kind {kind!r} is not one of {list(KINDS)}")
    if side not in SIDES:
        raise LabelTableError(f"{here}: side {side!r} is not one of {list(SIDES)}")
    masks = []
    for mask in spec.get("masks") or []:
        if not isinstance(mask, dict) or "map" not in mask:
            raise LabelTableError(f"{here}: each mask needs a 'map'")
        values = tuple(int(v) for v in mask.get("values", [1]))
        masks.append((str(mask["map"]), values))
    if not masks:
        raise LabelTableError(f"{here}: no masks")
    return Structure(key, str(spec.get("noun", key.replace("_", " "))), kind, side,
                     tuple(masks), spec.get("pair"), bool(spec.get("collection", False)))
