"""Codes of the per-voxel status map written next to every fitted map."""

from enum import IntEnum


class FitStatus(IntEnum):
    """Why a voxel holds the value it holds.

    Written as ``<map>_status`` (uint8). Every voxel whose status is not ``FITTED`` or
    ``BOUND_HIT`` holds NaN in the map, never 0.
    """

    OUTSIDE_MASK = 0
    FITTED = 1
    BOUND_HIT = 2
    TOO_FEW_VALID_POINTS = 3
    FAILED = 4


STATUS_DESCRIPTIONS = {
    FitStatus.OUTSIDE_MASK: "outside the mask, not fitted",
    FitStatus.FITTED: "fitted",
    FitStatus.BOUND_HIT: "fitted, but T stopped at a bound",
    FitStatus.TOO_FEW_VALID_POINTS: "too few valid (finite, positive) points",
    FitStatus.FAILED: "fit did not produce a finite result",
}
