"""Plane positions, orientation and pixel measures of a core grid, as highdicom takes them.

Derived objects here always state their geometry explicitly instead of letting highdicom
copy it from the source files in file order: one frame per slice ``k`` of the map, at the
position of voxel ``(0, 0, k)``, in DICOM patient coordinates (LPS, like the core grid).
"""

from __future__ import annotations

import highdicom as hd
import numpy as np

from ..geometry import Geometry


def plane_positions(geometry: Geometry) -> list[hd.PlanePositionSequence]:
    """Position of the first voxel of every slice k."""
    matrix = geometry.ijk_to_lps()
    return [hd.PlanePositionSequence(hd.CoordinateSystemNames.PATIENT,
                                     [float(v) for v in (matrix @ [0.0, 0.0, k, 1.0])[:3]])
            for k in range(geometry.size[2])]


def plane_orientation(geometry: Geometry) -> hd.PlaneOrientationSequence:
    """Row (i) and column (j) direction cosines."""
    direction = geometry.direction_matrix
    return hd.PlaneOrientationSequence(
        hd.CoordinateSystemNames.PATIENT,
        [float(v) for v in np.concatenate([direction[:, 0], direction[:, 1]])])


def pixel_measures(geometry: Geometry) -> hd.PixelMeasuresSequence:
    """Pixel spacing (between rows = j spacing, between columns = i spacing) and thickness."""
    return hd.PixelMeasuresSequence(pixel_spacing=[float(geometry.spacing[1]),
                                                   float(geometry.spacing[0])],
                                    slice_thickness=float(geometry.spacing[2]),
                                    spacing_between_slices=float(geometry.spacing[2]))
