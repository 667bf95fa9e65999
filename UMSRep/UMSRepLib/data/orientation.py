"""Bring volumes to one canonical orientation before slicing, and back afterwards.

The networks see axial slices the way the phantom draws them: array ``[z, y, x]`` with x
toward the patient's left, y toward posterior and z toward superior (LPS, identity
direction), i.e. patient right on the image left and anterior at the top. A volume in
any other orientation (a NIfTI stored RAS, a coronal acquisition) is permuted and
flipped - never resampled - to the nearest such orientation, so predictions can be put
back voxel for voxel with :meth:`Reorientation.invert`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Reorientation:
    """Axis permutation and flips from an array ``[k, j, i]`` to the canonical one.

    Canonical array axis ``a`` is original array axis ``permutation[a]``, reversed when
    ``flips[a]``.
    """

    permutation: tuple[int, int, int] = (0, 1, 2)
    flips: tuple[bool, bool, bool] = (False, False, False)

    @property
    def is_identity(self) -> bool:
        return self.permutation == (0, 1, 2) and not any(self.flips)

    def apply(self, array: np.ndarray) -> np.ndarray:
        """Original ``[k, j, i]`` array -> canonical ``[z, y, x]`` array (a view)."""
        out = np.transpose(array, self.permutation)
        for axis, flip in enumerate(self.flips):
            if flip:
                out = np.flip(out, axis)
        return out

    def invert(self, array: np.ndarray) -> np.ndarray:
        """Canonical array -> original orientation (the inverse of :meth:`apply`)."""
        out = array
        for axis, flip in enumerate(self.flips):
            if flip:
                out = np.flip(out, axis)
        return np.transpose(out, np.argsort(self.permutation))

    def spacing(self, spacing_xyz: tuple[float, float, float]) -> tuple[float, float, float]:
        """Voxel spacing (x, y, z) of the canonical array from the original (i, j, k)."""
        original_by_array_axis = spacing_xyz[::-1]  # array axis 0 is k
        canonical = [original_by_array_axis[self.permutation[a]] for a in range(3)]
        return tuple(float(v) for v in canonical[::-1])


def canonical_reorientation(direction: np.ndarray) -> Reorientation:
    """The permutation/flips taking a grid with ``direction`` (3x3, columns = LPS
    directions of i, j, k) nearest to identity direction.

    Each index axis is matched to the patient axis it points along most; ties
    (45-degree obliques) are broken greedily, largest component first.
    """
    direction = np.asarray(direction, dtype=float).reshape(3, 3)
    weights = np.abs(direction)
    assignment = [-1, -1, -1]  # patient axis m -> index axis n
    taken_rows: set[int] = set()
    taken_cols: set[int] = set()
    for flat in np.argsort(-weights, axis=None):
        row, col = divmod(int(flat), 3)  # row: patient axis, col: index axis
        if row in taken_rows or col in taken_cols:
            continue
        assignment[row] = col
        taken_rows.add(row)
        taken_cols.add(col)
    permutation = [0, 0, 0]
    flips = [False, False, False]
    for patient_axis, index_axis in enumerate(assignment):
        canonical_array_axis = 2 - patient_axis
        permutation[canonical_array_axis] = 2 - index_axis
        flips[canonical_array_axis] = bool(direction[patient_axis, index_axis] < 0)
    return Reorientation(tuple(permutation), tuple(flips))
