"""Receive-coil shading: a smooth multiplicative sensitivity from a few surface coils.

An anterior and a posterior row of loop elements sit just outside the body. Each
element's sensitivity falls off like the on-axis field of a loop,
``(1 + (r / R)^2)^(-3/2)``, and the elements are combined root-sum-of-squares, which
gives the familiar bright-front-and-back, darker-centre shading of torso arrays. The
map is scaled to mean 1 over the body. It multiplies every weighted image the same way,
so it cancels in the relaxation fit but not in the apparent proton density.
"""

from __future__ import annotations

import numpy as np

from .grid import PhantomGrid

#: x positions (mm) of the elements in each row, and the loop radius range (mm).
ELEMENT_X_MM = (-120.0, -40.0, 40.0, 120.0)
LOOP_RADIUS_MM = (110.0, 150.0)


def coil_sensitivity(grid: PhantomGrid, body: np.ndarray, body_cy: float,
                     half_depth: float, rng: np.random.Generator) -> np.ndarray:
    """Coil sensitivity (float32 ``[z, y, x]``), mean 1 inside ``body``."""
    x = grid.x_mm[None, None, :]
    y = grid.y_mm[None, :, None]
    z = grid.z_mm[:, None, None]
    total = np.zeros(grid.shape)
    for row_y in (body_cy - half_depth - 25.0, body_cy + half_depth + 15.0):
        for ex in ELEMENT_X_MM:
            cx = ex + rng.uniform(-12.0, 12.0)
            cy = row_y + rng.uniform(-8.0, 8.0)
            cz = rng.uniform(-20.0, 20.0)
            radius = rng.uniform(*LOOP_RADIUS_MM)
            gain = rng.uniform(0.8, 1.2)
            r2 = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2
            total += (gain * (1.0 + r2 / radius ** 2) ** -1.5) ** 2
    sensitivity = np.sqrt(total)
    sensitivity /= sensitivity[body].mean() if body.any() else sensitivity.mean()
    return sensitivity.astype(np.float32)
