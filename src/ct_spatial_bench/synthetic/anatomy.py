"""A parametric chest + upper abdomen, built in patient space (RAS+, millimetres).

Why parametric: every structure is a simple solid (ellipsoid, cylinder, plane) whose position is
known exactly, so the spatial ground truth of each finding can be computed rather than annotated.

Conventions (nibabel's RAS+ world): +x points to the patient's Right, +y to Anterior, +z to
Superior. Coordinates here are relative to the patient centre (the midline of the body in x and y,
an arbitrary height in z); :class:`Grid` adds the scanner offset. The volume is built in RAS voxel
order (axis 0 increases to the right, axis 1 anteriorly, axis 2 superiorly); storage in another
orientation happens only when the image is written (see ``phantom.py``).

Lobes follow the real fissure layout: on each side an oblique (major) fissure runs from high
posteriorly to low anteriorly and separates the lower lobe (below/behind it) from the rest; on the
right a horizontal (minor) fissure splits what is above the oblique fissure into the upper lobe
(above) and the middle lobe (below). Fissures are drawn as bands thick enough to separate the lobes'
air digitally (no 6-connected path crosses a band), so a reader can find lobes by components.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Tissue labels of the label volume; phantom.py maps them to Hounsfield units.
AIR, SUBCUT_FAT, MUSCLE, MEDIASTINAL_FAT, LUNG, FISSURE, EMPHYSEMA, TRACHEA = range(8)
HEART, AORTA, BONE_CANCELLOUS, BONE_CORTICAL, LIVER, SPLEEN, KIDNEY, ABDOMINAL_FAT = range(8, 16)
NODULE, CONSOLIDATION, EFFUSION, LYMPH_NODE = range(16, 20)

# Lobe codes of the lobe map, and their canonical names (the answers' wording).
LOBE_NAMES = {
    1: "Right upper lobe", 2: "Right middle lobe", 3: "Right lower lobe",
    4: "Left upper lobe", 5: "Left lower lobe",
}
RIGHT, LEFT = +1, -1  # sign of world x on that side of the patient (RAS+)
SIDE_NAMES = {RIGHT: "Right", LEFT: "Left"}
LOBES_OF_SIDE = {RIGHT: (1, 2, 3), LEFT: (4, 5)}

# Design field of view in mm; smaller FOVs scale the anatomy down (see ``sample_anatomy``).
DESIGN_FOV_MM = (264.0, 216.0, 384.0)


@dataclass(frozen=True)
class Grid:
    """The voxel grid: shape, spacing (mm), world position of voxel (0,0,0) and of the patient."""

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]          # world RAS mm of voxel (0, 0, 0)
    patient_centre: tuple[float, float, float]  # world RAS mm of the anatomy's local origin

    @property
    def affine(self) -> np.ndarray:
        aff = np.diag([*self.spacing, 1.0])
        aff[:3, 3] = self.origin
        return aff

    def local_axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patient-relative mm coordinates as broadcastable (n,1,1), (1,n,1), (1,1,n) arrays."""
        axes = []
        for dim in range(3):
            coords = self.origin[dim] + self.spacing[dim] * np.arange(self.shape[dim])
            coords = (coords - self.patient_centre[dim]).astype(np.float32)
            shape = [1, 1, 1]
            shape[dim] = -1
            axes.append(coords.reshape(shape))
        return axes[0], axes[1], axes[2]

    def voxel_to_world(self, ijk) -> np.ndarray:
        return np.asarray(self.origin) + np.asarray(ijk, dtype=float) * np.asarray(self.spacing)


def make_grid(rng: np.random.Generator, shape, spacing) -> Grid:
    """A grid with a scanner-like world offset, so readers cannot assume world 0 is the midline."""
    shape = tuple(int(s) for s in shape)
    spacing = tuple(float(s) for s in spacing)
    fov_centre = np.array([rng.uniform(-30, 30), rng.uniform(-40, 10), rng.uniform(-200, -100)])
    origin = fov_centre - (np.array(shape) - 1) / 2.0 * np.array(spacing)
    shift = np.array([rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-5, 5)])
    return Grid(shape, spacing, tuple(np.round(origin, 3)), tuple(np.round(fov_centre + shift, 3)))


@dataclass(frozen=True)
class AnatomyParams:
    """Sizes and positions (mm, patient-relative) of one patient's anatomy."""

    body_semi_x: float
    body_semi_y: float
    subcut_fat_mm: float
    muscle_mm: float
    lung_centre_x: float        # |x| of each lung's centre
    lung_centre_y: float
    lung_semi_x: float
    lung_semi_y: float
    lung_taper_z: float         # above this height the lungs narrow towards the apex
    lung_apex_z: float
    dome_right_z: float         # top of each hemidiaphragm
    dome_left_z: float
    recess_depth: float         # how much lower the diaphragm is at the lung's rim
    mediastinum_half_width: float
    carina_z: float
    trachea_y: float
    trachea_radius: float
    heart_centre: tuple[float, float, float]
    heart_semi: tuple[float, float, float]
    aorta_xy: tuple[float, float]
    aorta_radius: float
    aorta_top_z: float
    spine_y: float
    spine_radius: float
    oblique_right_z: float      # height of the right oblique fissure at the lung's centre y
    oblique_right_slope: float  # mm of height lost per mm anteriorly
    horizontal_right_z: float
    oblique_left_z: float
    oblique_left_slope: float
    liver_centre: tuple[float, float, float]
    liver_semi: tuple[float, float, float]
    spleen_centre: tuple[float, float, float]
    spleen_semi: tuple[float, float, float]
    kidney_centre: tuple[float, float, float]  # right kidney; the left one mirrors it in x
    kidney_semi: tuple[float, float, float]

    def as_dict(self) -> dict:
        return asdict(self)


def sample_anatomy(rng: np.random.Generator, grid: Grid) -> AnatomyParams:
    """Draw one patient's anatomy: a plausible adult, a few per cent larger or smaller."""
    fov = np.array(grid.shape) * np.array(grid.spacing)
    fit = float(min(1.0, *(fov / np.array(DESIGN_FOV_MM))))
    s = fit * rng.uniform(0.93, 1.0)
    u = rng.uniform
    dome_right = s * u(-28, -16)
    carina = s * u(62, 74)
    return AnatomyParams(
        body_semi_x=s * 122, body_semi_y=s * 94,
        subcut_fat_mm=s * u(8, 12), muscle_mm=s * u(8, 10),
        lung_centre_x=s * 64, lung_centre_y=s * u(-8, -2),
        lung_semi_x=s * u(44, 47), lung_semi_y=s * u(64, 70),
        lung_taper_z=s * 55, lung_apex_z=s * u(142, 152),
        dome_right_z=dome_right, dome_left_z=dome_right - s * u(8, 14), recess_depth=s * 38,
        mediastinum_half_width=s * 16,
        carina_z=carina, trachea_y=s * u(2, 8), trachea_radius=s * 8,
        heart_centre=(s * u(-28, -22), s * u(26, 32), dome_right + s * u(26, 32)),
        heart_semi=(s * u(50, 56), s * u(40, 46), s * u(38, 42)),
        aorta_xy=(s * -18, s * -48), aorta_radius=s * u(10, 12), aorta_top_z=carina + s * 8,
        spine_y=s * -76, spine_radius=s * 17,
        oblique_right_z=carina - s * u(24, 34), oblique_right_slope=u(0.85, 1.1),
        horizontal_right_z=carina - s * u(26, 32),
        oblique_left_z=carina - s * u(26, 38), oblique_left_slope=u(0.85, 1.1),
        liver_centre=(s * 52, s * 4, dome_right - s * 62),
        liver_semi=(s * u(66, 74), s * u(66, 72), s * u(62, 68)),
        spleen_centre=(s * -72, s * -30, dome_right - s * 60),
        spleen_semi=(s * 24, s * 36, s * 44),
        kidney_centre=(s * 52, s * -52, dome_right - s * 132),
        kidney_semi=(s * 26, s * 24, s * 46),
    )


def _ellipsoid(x, y, z, centre, semi) -> np.ndarray:
    return (((x - centre[0]) / semi[0]) ** 2 + ((y - centre[1]) / semi[1]) ** 2
            + ((z - centre[2]) / semi[2]) ** 2) < 1.0


def _ellipse_r2(x, y, centre_xy, semi_xy):
    return ((x - centre_xy[0]) / semi_xy[0]) ** 2 + ((y - centre_xy[1]) / semi_xy[1]) ** 2


def diaphragm_z(p: AnatomyParams, side: int, x, y):
    """Height of the hemidiaphragm under (x, y): a dome, lowest at the lung's rim (recesses)."""
    r2 = np.minimum(_ellipse_r2(x, y, (side * p.lung_centre_x, p.lung_centre_y),
                                (p.lung_semi_x, p.lung_semi_y)), 1.6)
    dome = p.dome_right_z if side == RIGHT else p.dome_left_z
    return dome - p.recess_depth * r2


def oblique_distance(p: AnatomyParams, side: int, y, z):
    """Signed mm from the oblique fissure plane; > 0 above/anterior (upper, middle lobes)."""
    z0, slope = ((p.oblique_right_z, p.oblique_right_slope) if side == RIGHT
                 else (p.oblique_left_z, p.oblique_left_slope))
    return (z - z0 + slope * (y - p.lung_centre_y)) / np.sqrt(1.0 + slope ** 2)


def fissure_half_widths(p: AnatomyParams, spacing) -> dict[str, float]:
    """Half-thickness (mm) of each fissure band, enough that no 6-connected path crosses it.

    A digital plane with normal n separates 26-connected paths when its thickness reaches
    sum_i |n_i| * spacing_i (a "standard" arithmetic plane); half of that plus a margin is used.
    """
    sx, sy, sz = spacing
    out = {}
    for side, slope in ((RIGHT, p.oblique_right_slope), (LEFT, p.oblique_left_slope)):
        norm = np.sqrt(1.0 + slope ** 2)
        out[f"oblique_{SIDE_NAMES[side].lower()}"] = 0.5 * (slope * sy + sz) / norm + 0.3
    out["horizontal_right"] = 0.5 * sz + 0.3
    return out


@dataclass
class Anatomy:
    """The built anatomy: a label volume, the pleural cavities and the exact lobe map."""

    params: AnatomyParams
    grid: Grid
    labels: np.ndarray              # uint8 tissue labels, RAS voxel order
    cavity: dict[int, np.ndarray]   # side -> pleural cavity mask (the lung before findings)
    lobes: np.ndarray               # int8 lobe code per cavity voxel (0 elsewhere)
    fissure: np.ndarray             # bool mask of the fissure bands
    half_widths: dict[str, float]

    def lobe_distance(self, side: int, x, y, z) -> dict[str, np.ndarray]:
        """Unsigned mm from each fissure plane of ``side`` (for keeping findings off fissures)."""
        out = {"oblique": np.abs(oblique_distance(self.params, side, y, z))}
        if side == RIGHT:
            out["horizontal"] = np.abs(z - self.params.horizontal_right_z) + 0 * y
        return out


def build_anatomy(p: AnatomyParams, grid: Grid, carve_balls=()) -> Anatomy:
    """Paint the tissues into a label volume.

    ``carve_balls`` are (centre_xyz, radius) spheres in patient mm kept free of lung, e.g. the space
    an enlarged hilar node occupies: the lung's medial surface moulds around it, as it would.
    """
    x, y, z = grid.local_axes()
    shape = grid.shape
    labels = np.zeros(shape, np.uint8)

    body = np.broadcast_to(_ellipse_r2(x, y, (0, 0), (p.body_semi_x, p.body_semi_y)) < 1, shape)
    wall = p.subcut_fat_mm + p.muscle_mm
    under_fat = _ellipse_r2(x, y, (0, 0), (p.body_semi_x - p.subcut_fat_mm,
                                          p.body_semi_y - p.subcut_fat_mm)) < 1
    inner = np.broadcast_to(
        _ellipse_r2(x, y, (0, 0), (p.body_semi_x - wall, p.body_semi_y - wall)) < 1, shape)
    labels[body] = SUBCUT_FAT
    labels[np.broadcast_to(under_fat, shape)] = MUSCLE

    thorax = np.zeros(shape, bool)
    for side in (RIGHT, LEFT):
        half = (x * side >= 0)
        thorax |= half & (z > diaphragm_z(p, side, x, y))
    thorax &= inner
    labels[inner] = ABDOMINAL_FAT
    labels[thorax] = MEDIASTINAL_FAT

    below = inner & ~thorax
    labels[below & _ellipsoid(x, y, z, p.liver_centre, p.liver_semi)] = LIVER
    labels[below & _ellipsoid(x, y, z, p.spleen_centre, p.spleen_semi)] = SPLEEN
    kx, ky, kz = p.kidney_centre
    for cx in (kx, -kx):
        labels[below & _ellipsoid(x, y, z, (cx, ky, kz), p.kidney_semi)] = KIDNEY

    heart = thorax & _ellipsoid(x, y, z, p.heart_centre, p.heart_semi)
    labels[heart] = HEART
    aorta_r2 = (x - p.aorta_xy[0]) ** 2 + (y - p.aorta_xy[1]) ** 2
    aorta = np.broadcast_to((aorta_r2 < p.aorta_radius ** 2) & (z < p.aorta_top_z), shape) & inner
    labels[aorta] = AORTA
    spine_r = np.sqrt(x ** 2 + (y - p.spine_y) ** 2)
    spine = np.broadcast_to(spine_r < p.spine_radius, shape)
    labels[spine] = BONE_CORTICAL
    labels[np.broadcast_to(spine_r < p.spine_radius - 3.0, shape)] = BONE_CANCELLOUS
    trachea_r = np.sqrt(x ** 2 + (y - p.trachea_y) ** 2)

    # Lungs: an ellipse in cross-section, narrowing to the apex, on top of the diaphragm, moulded
    # around the mediastinal structures with a few mm of fat in between.
    keep_out = (_ellipsoid(x, y, z, p.heart_centre, np.add(p.heart_semi, 4.0))
                | ((aorta_r2 < (p.aorta_radius + 4.0) ** 2) & (z < p.aorta_top_z + 4.0))
                | (spine_r < p.spine_radius + 4.0)
                | ((trachea_r < p.trachea_radius + 4.0) & (z > p.carina_z - 4.0)))
    for centre, radius in carve_balls:
        keep_out = keep_out | (((x - centre[0]) ** 2 + (y - centre[1]) ** 2
                                + (z - centre[2]) ** 2) < (radius + 4.0) ** 2)
    taper = np.clip((z - p.lung_taper_z) / (p.lung_apex_z - p.lung_taper_z), 0.0, 1.0)
    cavity: dict[int, np.ndarray] = {}
    lobes = np.zeros(shape, np.int8)
    for side in (RIGHT, LEFT):
        r2 = _ellipse_r2(x, y, (side * p.lung_centre_x, p.lung_centre_y),
                         (p.lung_semi_x, p.lung_semi_y))
        lung = ((r2 < 1.0 - taper ** 2) & (z > diaphragm_z(p, side, x, y))
                & (x * side > p.mediastinum_half_width))
        lung = lung & inner & ~keep_out
        cavity[side] = lung
        upper = oblique_distance(p, side, y, z) > 0
        if side == RIGHT:
            lobe = np.where(upper, np.where(z > p.horizontal_right_z, 1, 2), 3)
        else:
            lobe = np.where(upper, 4, 5)
        lobes[lung] = np.broadcast_to(lobe, shape)[lung]
        labels[lung] = LUNG

    half_widths = fissure_half_widths(p, grid.spacing)
    fissure = np.zeros(shape, bool)
    for side in (RIGHT, LEFT):
        hw = half_widths[f"oblique_{SIDE_NAMES[side].lower()}"]
        d = oblique_distance(p, side, y, z)
        band = np.abs(d) <= hw
        if side == RIGHT:
            band = band | ((np.abs(z - p.horizontal_right_z) <= half_widths["horizontal_right"])
                           & (d > -hw))
        fissure |= np.broadcast_to(band, shape) & cavity[side]
    labels[fissure] = FISSURE

    trachea = np.broadcast_to((trachea_r < p.trachea_radius) & (z > p.carina_z), shape) & body
    labels[trachea] = TRACHEA
    return Anatomy(p, grid, labels, cavity, lobes, fissure, half_widths)
