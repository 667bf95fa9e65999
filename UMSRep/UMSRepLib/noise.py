"""Synthetic noise for the denoising autoencoder (label-free pretraining).

The shared representation is learned by reconstructing clean images from corrupted
copies. Following UMS-Rep, the corruption mixes additive Gaussian noise at several
standard deviations with signal-dependent Poisson noise, so the encoder cannot learn a
single noise level. Images are normalised to about [0, 1] (see
:mod:`UMSRepLib.data.preprocess`), so σ and the Poisson peak are in those units.

``motion_probability`` (0 by default, as in the paper) adds a third, still label-free
corruption: k-space motion ghosting (:func:`UMSRepLib.data.corruption.motion_ghosting`),
so the shared representation also has to model ghosts - which a head judging image
quality on the frozen encoder then can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .data.corruption import motion_ghosting
from .errors import UserInputError

#: Pixel size assumed for ghosting on model-grid slices (the ghost shift is drawn in mm):
#: 380 mm field of view on 64 pixels.
MODEL_PIXEL_MM = 6.0


@dataclass(frozen=True)
class NoiseModel:
    """Which corruptions the denoising task draws from.

    Each sample is corrupted by Gaussian noise with σ drawn from ``gaussian_sigmas`` with
    probability ``1 - poisson_probability``, otherwise by Poisson noise: the image scaled
    to ``peak`` expected counts at intensity 1 (drawn from ``poisson_peaks``), sampled,
    and scaled back (smaller peak, more noise).
    """

    gaussian_sigmas: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2)
    poisson_peaks: tuple[float, ...] = (10.0, 30.0, 100.0)
    poisson_probability: float = 0.3
    motion_probability: float = 0.0
    evaluation_sigma: float = 0.1  # Gaussian σ of the fixed test corruption (PSNR/SSIM)

    def __post_init__(self) -> None:
        sigmas = tuple(float(s) for s in self.gaussian_sigmas)
        peaks = tuple(float(p) for p in self.poisson_peaks)
        object.__setattr__(self, "gaussian_sigmas", sigmas)
        object.__setattr__(self, "poisson_peaks", peaks)
        if not sigmas or any(not s > 0 for s in sigmas):
            raise UserInputError("noise: gaussian_sigmas must be a non-empty list of numbers > 0")
        if any(not p > 0 for p in peaks):
            raise UserInputError("noise: poisson_peaks must be numbers > 0")
        if not 0.0 <= self.poisson_probability <= 1.0 or (self.poisson_probability > 0
                                                          and not peaks):
            raise UserInputError("noise: poisson_probability must lie in [0, 1] and needs "
                                 "poisson_peaks")
        if not 0.0 <= self.motion_probability <= 1.0:
            raise UserInputError("noise: motion_probability must lie in [0, 1]")
        if not self.evaluation_sigma > 0:
            raise UserInputError("noise: evaluation_sigma must be > 0")

    def corrupt(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A noisy copy of ``image`` (float32), one random corruption (plus ghosting with
        ``motion_probability``)."""
        if self.motion_probability and rng.random() < self.motion_probability:
            image = motion_ghosting(image, MODEL_PIXEL_MM, rng)
        if self.poisson_peaks and rng.random() < self.poisson_probability:
            return poisson_noise(image, float(rng.choice(self.poisson_peaks)), rng)
        return gaussian_noise(image, float(rng.choice(self.gaussian_sigmas)), rng)

    def to_dict(self) -> dict[str, Any]:
        return {"gaussian_sigmas": list(self.gaussian_sigmas),
                "poisson_peaks": list(self.poisson_peaks),
                "poisson_probability": self.poisson_probability,
                "motion_probability": self.motion_probability,
                "evaluation_sigma": self.evaluation_sigma}

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> NoiseModel:
        values = dict(values or {})
        known = {"gaussian_sigmas", "poisson_peaks", "poisson_probability",
                 "motion_probability", "evaluation_sigma"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserInputError(f"unknown noise option {unknown[0]!r}; valid: "
                                 f"{', '.join(sorted(known))}")
        return cls(**values)


def gaussian_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``image + N(0, σ²)`` per pixel."""
    return (image + rng.normal(0.0, sigma, image.shape)).astype(np.float32)


def poisson_noise(image: np.ndarray, peak: float, rng: np.random.Generator) -> np.ndarray:
    """``Poisson(peak · max(image, 0)) / peak``: shot noise growing with the signal."""
    counts = rng.poisson(np.clip(image, 0.0, None) * peak)
    return (counts / peak).astype(np.float32)
