"""Enlarged lymph nodes at named stations, planned before the anatomy is built (the lung is
moulded around them) and painted after, with their exact ground truth."""

from __future__ import annotations

from typing import Any

import numpy as np

from .anatomy import LYMPH_NODE, RIGHT, Anatomy, AnatomyParams
from .findings import carina_level, finding_row
from .measures import ball_mask

NODE_STATIONS = ("Right hilar", "Left hilar", "Right paratracheal", "Left paratracheal")


def plan_lymph_node(p: AnatomyParams, rng: np.random.Generator, station: str
                    ) -> tuple[tuple[float, float, float], float]:
    """Centre (patient mm) and radius of an enlarged node at a named station.

    Hilar nodes sit at the lung's medial surface below the carina; a paratracheal node (station
    4R or 4L) abuts the trachea (1 mm of fat between them) above it. The lung is later moulded
    around the node (``carve_balls``).
    """
    radius = float(np.round(rng.uniform(8.0, 11.0), 1))
    side = RIGHT if station.startswith("Right") else -1
    if station.endswith("paratracheal"):
        x = side * (p.trachea_radius + 1.0 + radius)
        return (x, p.trachea_y - 2.0, p.carina_z + radius + rng.uniform(7.0, 15.0)), radius
    y = p.lung_centre_y + rng.uniform(-4.0, 8.0)
    x = side * (p.mediastinum_half_width + 0.6 * radius + rng.uniform(2.0, 6.0))
    z = p.carina_z - radius - rng.uniform(7.0, 13.0)  # wholly below the carina's level
    hx, hy, hz = p.heart_centre
    ha, hb, hc = p.heart_semi
    top = p.carina_z - radius - 7.0  # the highest centre still wholly below the carina
    # clear of the heart: up while it stays below the carina's level, else back (posterior)
    while (((x - hx) / (ha + radius + 6)) ** 2 + ((y - hy) / (hb + radius + 6)) ** 2
           + ((z - hz) / (hc + radius + 6)) ** 2) < 1.0:
        if z + 2.0 <= top:
            z += 2.0
        else:
            y -= 2.0
    return (float(x), float(y), float(z)), radius


def paint_lymph_node(anatomy: Anatomy, centre_mm, radius: float, station: str, case_id: str,
                     finding_id: str) -> dict[str, Any]:
    grid = anatomy.grid
    world = np.asarray(centre_mm) + np.asarray(grid.patient_centre)
    ijk = np.round((world - np.asarray(grid.origin)) / np.asarray(grid.spacing)).astype(int)
    mask = ball_mask(grid.shape, ijk, radius, grid.spacing)
    anatomy.labels[mask] = LYMPH_NODE
    return finding_row(case_id, finding_id, "lymph_node", grid, ijk, station=station,
                side=station.split()[0],
                level_vs_carina=carina_level(anatomy, grid.voxel_to_world(ijk)[2]),
                size_mm=round(2 * radius, 1))
