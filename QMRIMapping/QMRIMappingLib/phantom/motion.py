"""Small rigid in-plane motion between weighted images (imperfect breath-holds).

Each prepared image gets its own random translation and rotation about the body centre;
the zero-preparation image stays put, so the ground-truth maps stay registered to it.
``motion_mm`` bounds the displacement: the translation is at most ``motion_mm`` and the
rotation moves a point 100 mm from the centre by at most ``motion_mm`` as well.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from .grid import PhantomGrid

#: Radius (mm) at which the rotation's displacement equals ``motion_mm``.
ROTATION_LEVER_MM = 100.0


@dataclass(frozen=True)
class RigidMotion:
    """In-plane shift (mm, +x left, +y posterior) and rotation (degrees, x toward y)."""

    dx_mm: float = 0.0
    dy_mm: float = 0.0
    rotation_deg: float = 0.0

    @property
    def is_identity(self) -> bool:
        return self.dx_mm == 0.0 and self.dy_mm == 0.0 and self.rotation_deg == 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def random_motion(rng: np.random.Generator, motion_mm: float) -> RigidMotion:
    """A random rigid motion of size up to ``motion_mm``."""
    if motion_mm <= 0.0:
        return RigidMotion()
    direction = rng.uniform(0.0, 2.0 * np.pi)
    shift = motion_mm * rng.uniform(0.5, 1.0)
    angle = np.degrees(rng.uniform(-1.0, 1.0) * motion_mm / ROTATION_LEVER_MM)
    return RigidMotion(float(shift * np.cos(direction)), float(shift * np.sin(direction)),
                       float(angle))


def apply_motion(volume: np.ndarray, grid: PhantomGrid, motion: RigidMotion,
                 centre_mm: tuple[float, float]) -> np.ndarray:
    """Move the object in every slice of ``volume`` (``[z, y, x]``) by ``motion``.

    Linear interpolation; what moves in from outside the field of view is 0.
    """
    if motion.is_identity:
        return volume
    pixel = grid.pixel_mm
    angle = np.radians(motion.rotation_deg)
    c, s = np.cos(angle), np.sin(angle)
    # Output (row, col) -> input (row, col): inverse rotation about the centre, in (y, x).
    inverse = np.array([[c, -s], [s, c]])
    centre = np.array([grid.row_of(centre_mm[1]), grid.column_of(centre_mm[0])])
    shift = np.array([motion.dy_mm, motion.dx_mm]) / pixel
    offset = centre - inverse @ (centre + shift)
    moved = np.empty_like(volume)
    for k in range(volume.shape[0]):
        moved[k] = ndimage.affine_transform(volume[k], inverse, offset=offset, order=1,
                                            mode="constant", cval=0.0)
    return moved
