"""Training-time augmentation of the inputs: intensity and (optionally) contrast.

* **intensity** - a random gain and gamma: scanners scale and window images
  differently, and the heads should not depend on absolute intensity.
* **contrast** - a random piecewise-linear intensity map (control points every 1/5 of
  the image's range, air kept dark), applied to half of the samples: tissues swap their
  relative brightness, as between T1-, T2- and proton-density-weighted scans or between
  fat-suppressed and non-suppressed ones. Contrast randomisation of synthetic training
  images is what lets SynthSeg (Billot et al., Med Image Anal 2023) segment real scans
  of any contrast; here it is offered for the denoising and segmentation tasks only,
  because the classification labels (image quality, tissue state) are themselves
  statements about contrast and noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UserInputError

GAIN_RANGE = (0.8, 1.25)
GAMMA_RANGE = (0.8, 1.25)
CONTRAST_POINTS = 6
CONTRAST_PROBABILITY = 0.5


@dataclass(frozen=True)
class Augmentation:
    """Which augmentations training datasets apply (see the module docstring)."""

    intensity: bool = False
    contrast: bool = False

    @classmethod
    def of(cls, value: Any) -> Augmentation:
        """From a bool (intensity only), a mapping {intensity, contrast} or an instance."""
        if isinstance(value, Augmentation):
            return value
        if value is None or isinstance(value, bool):
            return cls(intensity=bool(value))
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"intensity", "contrast"})
            if unknown:
                raise UserInputError(f"unknown augment option {unknown[0]!r}; valid: contrast, "
                                     "intensity")
            return cls(intensity=bool(value.get("intensity", False)),
                       contrast=bool(value.get("contrast", False)))
        raise UserInputError(f"augment must be true/false or {{intensity, contrast}}, got "
                             f"{value!r}")

    def to_dict(self) -> dict[str, bool]:
        return {"intensity": self.intensity, "contrast": self.contrast}


def intensity_augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random gain and gamma on a non-negative image (float32)."""
    gamma = rng.uniform(*GAMMA_RANGE)
    gain = rng.uniform(*GAIN_RANGE)
    return (gain * np.power(np.clip(image, 0.0, None), gamma)).astype(np.float32)


def contrast_augment(image: np.ndarray, rng: np.random.Generator,
                     points: int = CONTRAST_POINTS) -> np.ndarray:
    """A random piecewise-linear remapping of intensities to [0, 1] (air stays at 0)."""
    top = max(float(np.percentile(image, 99.5)), 1e-6)
    xs = np.linspace(0.0, top, points)
    ys = np.concatenate([[0.0], rng.uniform(0.0, 1.0, points - 1)])
    return np.interp(np.clip(image, 0.0, None), xs, ys).astype(np.float32)


def augment_image(image: np.ndarray, rng: np.random.Generator, augmentation: Augmentation,
                  contrast_allowed: bool) -> np.ndarray:
    """Apply the enabled augmentations (contrast only where the task allows it)."""
    if augmentation.contrast and contrast_allowed and rng.random() < CONTRAST_PROBABILITY:
        image = contrast_augment(image, rng)
    if augmentation.intensity:
        image = intensity_augment(image, rng)
    return image
