"""Voxel-grid geometry of a volume in DICOM patient coordinates (LPS), as SimpleITK holds it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk


@dataclass(frozen=True)
class Geometry:
    """Size, spacing, origin and direction of a 3-D grid.

    All vectors are in SimpleITK order (x, y, z) and LPS patient coordinates in mm; the
    direction is the 3x3 matrix whose columns are the i, j, k axes, stored row-major.
    Arrays that go with a geometry are indexed ``[z, y, x]`` (``sitk.GetArrayFromImage``).
    """

    size: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]

    @classmethod
    def from_sitk(cls, source: sitk.Image | sitk.ImageFileReader) -> Geometry:
        """Grid of an image, or of a reader after ``ReadImageInformation`` (header only).

        A 2-D image becomes a single-slice grid; extra dimensions (time) are dropped.
        """
        dimension = source.GetDimension()
        size, spacing, origin = source.GetSize(), source.GetSpacing(), source.GetOrigin()
        full = np.asarray(source.GetDirection(), dtype=float).reshape(dimension, dimension)
        if dimension == 2:
            direction = np.eye(3)
            direction[:2, :2] = full
            return cls(size=(int(size[0]), int(size[1]), 1),
                       spacing=(float(spacing[0]), float(spacing[1]), 1.0),
                       origin=(float(origin[0]), float(origin[1]), 0.0),
                       direction=tuple(float(v) for v in direction.ravel()))
        return cls(size=tuple(int(v) for v in size[:3]),
                   spacing=tuple(float(v) for v in spacing[:3]),
                   origin=tuple(float(v) for v in origin[:3]),
                   direction=tuple(float(v) for v in full[:3, :3].ravel()))

    @property
    def direction_matrix(self) -> np.ndarray:
        return np.asarray(self.direction, dtype=float).reshape(3, 3)

    @property
    def array_shape(self) -> tuple[int, int, int]:
        """Shape of the numpy array ``[z, y, x]`` that goes with this grid."""
        return (self.size[2], self.size[1], self.size[0])

    def ijk_to_lps(self) -> np.ndarray:
        """4x4 matrix mapping voxel index (i, j, k, 1) to LPS mm."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.direction_matrix @ np.diag(self.spacing)
        matrix[:3, 3] = self.origin
        return matrix

    def ijk_to_ras(self) -> np.ndarray:
        """4x4 matrix mapping voxel index to RAS mm (Slicer's world frame)."""
        return np.diag([-1.0, -1.0, 1.0, 1.0]) @ self.ijk_to_lps()

    def mismatch(self, other: Geometry, tolerance_mm: float = 1e-3,
                 tolerance_direction: float = 1e-4) -> str | None:
        """Say how ``other`` differs from this grid, or return None when they agree."""
        if self.size != other.size:
            return f"size {other.size} differs from {self.size}"
        if not np.allclose(self.spacing, other.spacing, atol=tolerance_mm, rtol=1e-4):
            return f"spacing {_fmt(other.spacing)} mm differs from {_fmt(self.spacing)} mm"
        if not np.allclose(self.direction, other.direction, atol=tolerance_direction):
            return "orientation differs"
        largest = max(self.spacing) if self.spacing else 1.0
        if not np.allclose(self.origin, other.origin, atol=max(tolerance_mm, 1e-3 * largest)):
            return f"position {_fmt(other.origin)} mm differs from {_fmt(self.origin)} mm"
        return None

    def to_sitk(self, array: np.ndarray) -> sitk.Image:
        """Wrap an array indexed ``[z, y, x]`` as a SimpleITK image on this grid."""
        if array.shape != self.array_shape:
            raise ValueError(f"array shape {array.shape} does not match grid {self.array_shape}")
        image = sitk.GetImageFromArray(array)
        image.SetSpacing(self.spacing)
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)
        return image


def _fmt(values) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in values) + ")"
