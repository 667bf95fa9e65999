"""The phantom's voxel grid: a centred axial slab in LPS millimetres.

Patient head-first supine, axial slices, identity direction: x (column index) grows
toward the patient's left, y (row index) toward posterior, z (slice index) toward
superior. The anatomy is drawn in millimetres, so it does not depend on the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import Geometry

#: Square field of view (mm) and slice thickness (mm) of the phantom protocol.
FIELD_OF_VIEW_MM = 380.0
SLICE_THICKNESS_MM = 8.0


@dataclass(frozen=True)
class PhantomGrid:
    """Voxel-centre coordinates (mm) of the slab and the Geometry that goes with them."""

    geometry: Geometry
    x_mm: np.ndarray  # (nx,) left-positive
    y_mm: np.ndarray  # (ny,) posterior-positive
    z_mm: np.ndarray  # (nz,) superior-positive

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.geometry.array_shape

    @property
    def pixel_mm(self) -> float:
        return float(self.geometry.spacing[0])

    def plane(self) -> tuple[np.ndarray, np.ndarray]:
        """In-plane coordinate images ``(X, Y)`` of shape ``(ny, nx)``."""
        return np.meshgrid(self.x_mm, self.y_mm, indexing="xy")

    def column_of(self, x_mm: float) -> float:
        """Fractional column index of an x position."""
        return (x_mm - self.x_mm[0]) / self.pixel_mm

    def row_of(self, y_mm: float) -> float:
        """Fractional row index of a y position."""
        return (y_mm - self.y_mm[0]) / self.pixel_mm


def make_grid(matrix: int, n_slices: int) -> PhantomGrid:
    """A ``matrix`` x ``matrix`` x ``n_slices`` grid centred on the LPS origin."""
    pixel = FIELD_OF_VIEW_MM / matrix
    origin = (-(matrix - 1) / 2.0 * pixel, -(matrix - 1) / 2.0 * pixel,
              -(n_slices - 1) / 2.0 * SLICE_THICKNESS_MM)
    geometry = Geometry(
        size=(matrix, matrix, n_slices),
        spacing=(pixel, pixel, SLICE_THICKNESS_MM),
        origin=origin,
        direction=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
    )
    index = np.arange(matrix, dtype=np.float64)
    return PhantomGrid(
        geometry=geometry,
        x_mm=origin[0] + index * pixel,
        y_mm=origin[1] + index * pixel,
        z_mm=origin[2] + np.arange(n_slices, dtype=np.float64) * SLICE_THICKNESS_MM,
    )
