"""A whole image volume prepared for the networks, and outputs put back on its grid.

:func:`prepare_volume` reorients a ``[k, j, i]`` array to the canonical axial
orientation (:mod:`.orientation`), normalises intensity over the volume and resamples
every axial slice to the model grid (:mod:`.preprocess`). :meth:`PreparedVolume.restore`
is the exact inverse for per-slice outputs (probabilities, heat maps), so a segmentation
lands voxel for voxel on the input - in the command line and in Slicer alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .orientation import Reorientation, canonical_reorientation
from .preprocess import SliceTransform, normalise_intensity, slice_transform


@dataclass
class PreparedVolume:
    """Model-grid slices ``(Z, S, S)`` and how to map them back."""

    slices: np.ndarray
    transform: SliceTransform
    reorientation: Reorientation
    canonical_shape: tuple[int, int, int]
    intensity_scale: float

    def restore(self, values: np.ndarray, order: int = 1) -> np.ndarray:
        """Per-slice model-grid values ``(Z, S, S)`` -> array on the original ``[k, j, i]``."""
        canonical = np.stack([self.transform.from_model(v, order) for v in values])
        return np.ascontiguousarray(self.reorientation.invert(canonical))

    def canonical(self, array: np.ndarray) -> np.ndarray:
        """An array on the original grid (a mask) in canonical orientation."""
        return self.reorientation.apply(array)


def prepare_volume(array: np.ndarray, spacing_xyz: tuple[float, float, float] | None,
                   direction: np.ndarray | None, image_size: int,
                   field_of_view_mm: float | None) -> PreparedVolume:
    """Canonical orientation, normalised intensity, model-sized slices.

    ``spacing_xyz``/``direction`` may be None (PNG): no reorientation, and the slice is
    padded to a square instead of resampled to the field of view.
    """
    data = np.asarray(array, dtype=np.float32)
    if data.ndim == 2:
        data = data[np.newaxis]
    reorientation = (canonical_reorientation(direction) if direction is not None
                     else Reorientation())
    canonical = np.ascontiguousarray(reorientation.apply(data))
    normalised, scale = normalise_intensity(canonical)
    spacing_rc = None
    if spacing_xyz is not None:
        sx, sy, _ = reorientation.spacing(tuple(spacing_xyz))
        spacing_rc = (sy, sx)
    transform = slice_transform(canonical.shape[1:], image_size, spacing_rc,
                                field_of_view_mm if spacing_rc is not None else None)
    slices = np.stack([transform.to_model(s) for s in normalised])
    return PreparedVolume(slices=slices, transform=transform, reorientation=reorientation,
                          canonical_shape=tuple(canonical.shape), intensity_scale=scale)
