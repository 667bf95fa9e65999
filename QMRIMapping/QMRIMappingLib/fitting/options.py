"""User-facing settings of the relaxometry fit."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserInputError


@dataclass(frozen=True)
class FitOptions:
    """Settings of :func:`fit_relaxation`.

    ``t_bounds_ms`` keeps T inside a physical range; the defaults span everything from
    short-T2* tissue to fluid. ``offset`` adds a constant C to the model
    (S0·exp(−t/T) + C), which needs more than 4 points to be determined well.
    ``noise_floor`` fits the Rician expectation of the magnitude signal instead of the
    signal itself, with σ given in ``sigma`` or estimated from the image background.
    ``chunk_voxels`` bounds memory: voxels are fitted in chunks of this many.
    ``double_precision`` runs the default solver in float64 instead of float32 (about
    twice as slow; the results differ by ~1e-5 ms, far below the noise).
    """

    t_bounds_ms: tuple[float, float] = (1.0, 2000.0)
    offset: bool = False
    noise_floor: bool = False
    sigma: float | None = None
    max_iterations: int = 50
    tolerance: float = 1e-10
    chunk_voxels: int = 1 << 17
    device: str = "auto"
    double_precision: bool = False

    def validate(self) -> None:
        low, high = self.t_bounds_ms
        if not (0 < low < high):
            raise UserInputError(
                f"T bounds ({low}, {high}) ms are invalid: give 0 < lower < upper, in ms")
        if self.sigma is not None and not self.sigma > 0:
            raise UserInputError(f"noise sigma {self.sigma} must be positive (signal units)")
        if self.max_iterations < 1:
            raise UserInputError("max_iterations must be at least 1")
        if self.chunk_voxels < 1:
            raise UserInputError("chunk_voxels must be at least 1")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise UserInputError(f"device '{self.device}' is unknown: use auto, cpu or cuda")
