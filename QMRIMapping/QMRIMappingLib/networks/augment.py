"""Small random in-plane rotation and translation, identical for images, masks and labels.

Huang et al. augment with small random rotations and translations. One rigid transform
per sample is applied to every channel so the images stay registered to each other and
to the masks and label maps (the relaxation constraint compares images pixel by pixel).
Images are resampled bilinearly; masks and label maps with nearest neighbour, so labels
never mix tissues and NaN ("unknown") stays NaN instead of spreading. What moves in from
outside the field of view is 0 (images, masks) or NaN (labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class AugmentOptions:
    """Rotation up to ±``max_rotation_deg`` and shift up to ±``max_shift_fraction`` of
    the field of view along each axis, drawn uniformly per sample."""

    max_rotation_deg: float = 5.0
    max_shift_fraction: float = 0.05

    @property
    def enabled(self) -> bool:
        """False when both limits are 0 (resampling would only add rounding)."""
        return self.max_rotation_deg > 0 or self.max_shift_fraction > 0


def random_affine(rng: np.random.Generator, options: AugmentOptions, height: int,
                  width: int) -> torch.Tensor:
    """A random (1, 2, 3) ``affine_grid`` matrix: rotation about the centre plus shift.

    Normalised coordinates run over [-1, 1] on both axes, so the off-diagonal terms are
    scaled by the aspect ratio to keep the rotation rigid on non-square images.
    """
    angle = rng.uniform(-1.0, 1.0) * options.max_rotation_deg
    shift_x, shift_y = options.max_shift_fraction * rng.uniform(-1.0, 1.0, size=2)
    return rigid_affine(angle, float(shift_x), float(shift_y), height, width)


def rigid_affine(angle_deg: float, shift_x: float, shift_y: float, height: int,
                 width: int) -> torch.Tensor:
    """The (1, 2, 3) matrix of a rotation by ``angle_deg`` about the image centre and a
    shift by (``shift_x``, ``shift_y``) fractions of the field of view.

    ``affine_grid`` maps output to input coordinates, so the content moves by the
    inverse: it turns by -angle and shifts by minus the shift.
    """
    angle = math.radians(angle_deg)
    c, s = math.cos(angle), math.sin(angle)
    theta = [[c, -s * height / width, 2.0 * shift_x], [s * width / height, c, 2.0 * shift_y]]
    return torch.tensor([theta], dtype=torch.float32)


def sampling_grid(theta: torch.Tensor, height: int, width: int,
                  window: tuple[int, int, int, int] | None = None) -> torch.Tensor:
    """``F.affine_grid(theta, (1, C, height, width), align_corners=False)``, restricted to
    ``window`` (top, left, h, w) and computed for those pixels only: (1, h, w, 2)."""
    top, left, rows, cols = window or (0, 0, height, width)
    x = (2.0 * torch.arange(left, left + cols, dtype=theta.dtype) + 1.0) / width - 1.0
    y = (2.0 * torch.arange(top, top + rows, dtype=theta.dtype) + 1.0) / height - 1.0
    m = theta[0]
    grid_x = m[0, 0] * x[None, :] + m[0, 1] * y[:, None] + m[0, 2]
    grid_y = m[1, 0] * x[None, :] + m[1, 1] * y[:, None] + m[1, 2]
    return torch.stack([grid_x, grid_y], dim=-1)[None]


def warp(images: torch.Tensor, theta: torch.Tensor, mode: str,
         window: tuple[int, int, int, int] | None = None) -> torch.Tensor:
    """Resample (C, H, W) with the affine ``theta``; ``mode`` "bilinear" or "nearest".

    ``window`` (top, left, height, width) returns only that part of the warped image,
    computing only its pixels (a training crop costs its own area, not the slice's).
    """
    grid = sampling_grid(theta.to(images.dtype), *images.shape[-2:], window)
    return F.grid_sample(images[None], grid, mode=mode, padding_mode="zeros",
                         align_corners=False)[0]


def warp_labels(labels: torch.Tensor, theta: torch.Tensor,
                window: tuple[int, int, int, int] | None = None) -> torch.Tensor:
    """Nearest-neighbour resampling that keeps NaN (unknown) and fills outside with NaN."""
    known = torch.isfinite(labels).to(labels.dtype)
    values = warp(torch.nan_to_num(labels), theta, "nearest", window)
    known = warp(known, theta, "nearest", window)
    return torch.where(known > 0.5, values, torch.full_like(values, math.nan))
