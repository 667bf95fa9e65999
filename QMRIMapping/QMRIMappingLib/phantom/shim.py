"""The shim box and the B0 artifact outside it.

In the paper's protocol the scanner shims a box placed on the right lobe; outside it the
field is left inhomogeneous, and the spin-lock and T2-preparation pulses lose signal
there in a way that depends on the preparation time. The phantom reproduces that as a
measurement error on top of the true tissue values (the ground-truth maps do not change).

Off-resonance model
-------------------
``df(x, y, z) = d * g * (1 + 0.5 f(x, y, z)) + q * d^2`` (Hz), where ``d`` is the in-plane
distance (mm) from the box, ``g`` and ``q`` are drawn per subject and ``f`` is a smooth
random field. Inside the box ``d = 0`` and so ``df = 0`` exactly; it grows smoothly
outside, to a few hundred Hz at the body edge (an unshimmed 3 T abdomen).

Signal model (magnitude of the prepared longitudinal magnetisation, relative to the
zero-preparation image)
--------------------------------------------------------------------------------------
* Spin lock of amplitude ``FSL`` (Hz) for time ``t``: off resonance tilts the effective
  field by ``theta = atan(df / FSL)``. The part of the magnetisation along the effective
  field (``cos^2 theta``) relaxes with T1rho; the rest precesses about it at
  ``f_eff = sqrt(FSL^2 + df^2)`` and decays roughly with T2:
  ``|cos^2(theta) exp(-t/T1rho) + sin^2(theta) cos(2 pi f_eff t) exp(-t/T2)|``.
* T2 preparation of duration ``t``: imperfect refocusing leaves a phase of
  ``2 pi * eps * df * t`` (``eps`` the unrefocused fraction) that the tip-up pulse turns
  into a cosine: ``|exp(-t/T2) cos(2 pi eps df t)|``.

Both reduce to the ideal ``exp(-t/T)`` when ``df = 0`` or ``t = 0``, and both produce
bands where the cosine passes through zero, stronger at longer preparation times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import SLICE_THICKNESS_MM, PhantomGrid
from .properties import smooth_field

#: Spin-lock amplitude (Hz) and unrefocused fraction of the T2 preparation.
SPIN_LOCK_HZ = 500.0
T2PREP_UNREFOCUSED_FRACTION = 0.03
#: Ranges of the box size (mm) and of the field growth outside it.
BOX_SIZE_MM = ((95.0, 120.0), (90.0, 115.0))
GRADIENT_HZ_PER_MM = (1.5, 3.0)
CURVATURE_HZ_PER_MM2 = (0.0, 0.01)


@dataclass(frozen=True)
class ShimBox:
    """An axis-aligned box in LPS millimetres."""

    x: tuple[float, float]
    y: tuple[float, float]
    z: tuple[float, float]

    def mask(self, grid: PhantomGrid) -> np.ndarray:
        """Voxels whose centres lie in the box (bool ``[z, y, x]``)."""
        inside_x = (grid.x_mm >= self.x[0]) & (grid.x_mm <= self.x[1])
        inside_y = (grid.y_mm >= self.y[0]) & (grid.y_mm <= self.y[1])
        inside_z = (grid.z_mm >= self.z[0]) & (grid.z_mm <= self.z[1])
        return inside_z[:, None, None] & inside_y[None, :, None] & inside_x[None, None, :]

    def in_plane_distance(self, grid: PhantomGrid) -> np.ndarray:
        """Distance (mm) from each in-plane position to the box, 0 inside, ``(y, x)``."""
        dx = np.maximum.reduce([self.x[0] - grid.x_mm, np.zeros_like(grid.x_mm),
                                grid.x_mm - self.x[1]])
        dy = np.maximum.reduce([self.y[0] - grid.y_mm, np.zeros_like(grid.y_mm),
                                grid.y_mm - self.y[1]])
        return np.hypot(dy[:, None], dx[None, :])

    def as_dict(self) -> dict:
        return {"x_mm": list(self.x), "y_mm": list(self.y), "z_mm": list(self.z)}


def place_shim_box(grid: PhantomGrid, right_lobe: np.ndarray, rng: np.random.Generator
                   ) -> ShimBox:
    """A box centred near the right lobe's centroid, spanning the whole slab in z."""
    _, rows, cols = np.nonzero(right_lobe)
    cx = float(grid.x_mm[cols].mean()) + rng.uniform(-8.0, 8.0)
    cy = float(grid.y_mm[rows].mean()) + rng.uniform(-8.0, 8.0)
    width, height = rng.uniform(*BOX_SIZE_MM[0]), rng.uniform(*BOX_SIZE_MM[1])
    half_slab = SLICE_THICKNESS_MM / 2.0
    return ShimBox(x=(cx - width / 2.0, cx + width / 2.0),
                   y=(cy - height / 2.0, cy + height / 2.0),
                   z=(float(grid.z_mm[0]) - half_slab, float(grid.z_mm[-1]) + half_slab))


def off_resonance_hz(grid: PhantomGrid, box: ShimBox, rng: np.random.Generator
                     ) -> np.ndarray:
    """B0 off-resonance (Hz, float32 ``[z, y, x]``): exactly 0 in the box, growing outside."""
    gradient = rng.uniform(*GRADIENT_HZ_PER_MM)
    curvature = rng.uniform(*CURVATURE_HZ_PER_MM2)
    distance = np.broadcast_to(box.in_plane_distance(grid), grid.shape)
    zz, yy, xx = np.meshgrid(grid.z_mm, grid.y_mm, grid.x_mm, indexing="ij")
    points = np.stack([xx.ravel(), yy.ravel(), zz.ravel()], axis=1)
    wobble = smooth_field(rng, points).reshape(grid.shape)
    sign = rng.choice([-1.0, 1.0])
    field = sign * (distance * gradient * (1.0 + 0.5 * wobble) + curvature * distance ** 2)
    return field.astype(np.float32)


def spin_lock_factor(df_hz: np.ndarray, t_ms: float, t1rho_ms: np.ndarray,
                     t2_ms: np.ndarray) -> np.ndarray:
    """Relative prepared signal after a spin lock of ``t_ms`` under off-resonance."""
    t = t_ms / 1000.0
    theta = np.arctan2(df_hz, SPIN_LOCK_HZ)
    f_eff = np.hypot(SPIN_LOCK_HZ, df_hz)
    locked = np.cos(theta) ** 2 * np.exp(-t_ms / t1rho_ms)
    nutating = np.sin(theta) ** 2 * np.cos(2.0 * np.pi * f_eff * t) * np.exp(-t_ms / t2_ms)
    return np.abs(locked + nutating)


def t2prep_factor(df_hz: np.ndarray, t_ms: float, t2_ms: np.ndarray) -> np.ndarray:
    """Relative prepared signal after a T2 preparation of ``t_ms`` under off-resonance."""
    phase = 2.0 * np.pi * T2PREP_UNREFOCUSED_FRACTION * df_hz * (t_ms / 1000.0)
    return np.abs(np.exp(-t_ms / t2_ms) * np.cos(phase))
