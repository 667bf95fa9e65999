"""Intensity normalisation and resampling of 2-D slices to the model's square grid.

Every image, whatever its size and pixel spacing, is shown to the networks as an
``S x S`` slice (``ArchitectureSpec.image_size``). With a known pixel spacing and a
model field of view, the slice is resampled to that field of view around its centre,
so anatomy keeps the physical size the model was trained on (a 3 mm scan and the
phantom's 2.97 mm grid both become the model's pixels). Without spacing (PNG) or field
of view, the slice is padded to a square and resized. The map is an axis-aligned
affine, so outputs go back onto the original pixels exactly with :meth:`SliceTransform.
from_model`. Down-sampling is preceded by a Gaussian pre-filter against aliasing.

Intensities are divided by the 99th percentile of the whole image (volume), which puts
tissue at about [0, 1] for any scanner scaling; the denoising noise levels are in those
units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Gaussian pre-filter σ per unit of down-sampling factor (in input pixels).
ANTIALIAS_SIGMA_PER_STEP = 0.4


def normalise_intensity(volume: np.ndarray) -> tuple[np.ndarray, float]:
    """``volume / p99`` (float32) and the scale used (1 for an all-zero image)."""
    values = volume[np.isfinite(volume)]
    scale = float(np.percentile(values, 99.0)) if values.size else 0.0
    if not scale > 0:
        scale = float(values.max()) if values.size and values.max() > 0 else 1.0
    return (volume / scale).astype(np.float32), scale


@dataclass(frozen=True)
class SliceTransform:
    """Model pixel (u, v) -> input pixel (r0 + u·step_r, c0 + v·step_c)."""

    input_shape: tuple[int, int]
    size: int
    r0: float
    c0: float
    step_r: float
    step_c: float

    def to_model(self, image: np.ndarray, order: int = 1) -> np.ndarray:
        """Resample a slice (H, W) onto the model grid (S, S), float32; outside is 0."""
        data = np.asarray(image, dtype=np.float32)
        sigmas = [ANTIALIAS_SIGMA_PER_STEP * s if s > 1.0 else 0.0
                  for s in (self.step_r, self.step_c)]
        if order > 0 and any(sigmas):
            data = ndimage.gaussian_filter(data, sigmas, mode="nearest")
        u = np.arange(self.size, dtype=np.float64)
        rows = self.r0 + u * self.step_r
        cols = self.c0 + u * self.step_c
        grid = np.meshgrid(rows, cols, indexing="ij")
        return ndimage.map_coordinates(data, grid, order=order, mode="constant",
                                       cval=0.0).astype(np.float32)

    def mask_to_model(self, mask: np.ndarray) -> np.ndarray:
        """A binary mask on the model grid (area-weighted, then > 0.5), uint8."""
        return (self.to_model(np.asarray(mask, dtype=np.float32) > 0) > 0.5).astype(np.uint8)

    def from_model(self, values: np.ndarray, order: int = 1) -> np.ndarray:
        """Model-grid values (S, S) back on the input pixels (H, W), float32.

        Input pixels outside the model's field of view (more than half a model pixel
        beyond its edge) get 0: the networks never saw them.
        """
        rows = (np.arange(self.input_shape[0], dtype=np.float64) - self.r0) / self.step_r
        cols = (np.arange(self.input_shape[1], dtype=np.float64) - self.c0) / self.step_c
        grid = np.meshgrid(rows, cols, indexing="ij")
        out = ndimage.map_coordinates(np.asarray(values, dtype=np.float32), grid, order=order,
                                      mode="nearest").astype(np.float32)
        limit = self.size - 0.5
        outside = ((grid[0] < -0.5) | (grid[0] > limit) | (grid[1] < -0.5)
                   | (grid[1] > limit))
        out[outside] = 0.0
        return out


def slice_transform(shape: tuple[int, int], size: int,
                    spacing_rc: tuple[float, float] | None = None,
                    field_of_view_mm: float | None = None) -> SliceTransform:
    """The transform from a slice of ``shape`` (rows, cols) to a ``size`` x ``size`` grid.

    ``spacing_rc``: pixel size (mm) along rows and columns, or None when unknown.
    """
    height, width = int(shape[0]), int(shape[1])
    if spacing_rc is not None and field_of_view_mm is not None:
        pixel_mm = float(field_of_view_mm) / size
        step_r, step_c = pixel_mm / spacing_rc[0], pixel_mm / spacing_rc[1]
    elif spacing_rc is not None:
        side_mm = max(height * spacing_rc[0], width * spacing_rc[1])
        step_r, step_c = side_mm / size / spacing_rc[0], side_mm / size / spacing_rc[1]
    else:
        step_r = step_c = max(height, width) / size
    centre = (size - 1) / 2.0
    r0 = (height - 1) / 2.0 - centre * step_r
    c0 = (width - 1) / 2.0 - centre * step_c
    return SliceTransform((height, width), size, r0, c0, step_r, step_c)
