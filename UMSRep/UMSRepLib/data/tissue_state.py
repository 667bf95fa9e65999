"""A "fibrotic-like" liver for the bundled tissue-state task, without touching the phantom.

Liver fibrosis raises liver T1rho (and, less, T2): the collagen and water content of the
tissue change its spin-lock relaxation. The phantom draws healthy liver values only, so
this module post-processes a generated subject: inside the liver parenchyma (label
``liver``) T1rho and T2 are multiplied by one subject-level factor each (keeping the
phantom's smooth within-organ variation), and the weighted images are re-synthesised
from the modified maps with the phantom's own signal model (``noise_free_signal``: PD x
coil x preparation factor, shim artifact included) and Rician noise.

The factors (T1rho x 1.25-1.6, T2 x 1.15-1.4 by default) are chosen to make the state
visible on a single weighted image; they are a synthetic stand-in, not calibrated to a
fibrosis stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from QMRIMappingLib.phantom import LABEL_IDS, PhantomSubject
from QMRIMappingLib.phantom.signal import add_rician_noise, noise_free_signal

T1RHO_FACTOR = (1.25, 1.6)
T2_FACTOR = (1.15, 1.4)


@dataclass(frozen=True)
class RelaxationMaps:
    """T1rho and T2 maps (ms) of a subject and the factors applied to its liver."""

    t1rho_ms: np.ndarray
    t2_ms: np.ndarray
    t1rho_factor: float = 1.0
    t2_factor: float = 1.0


def healthy_maps(subject: PhantomSubject) -> RelaxationMaps:
    """The subject's own (healthy) maps."""
    return RelaxationMaps(subject.t1rho_ms, subject.t2_ms)


def fibrotic_maps(subject: PhantomSubject, rng: np.random.Generator,
                  t1rho_factor: tuple[float, float] = T1RHO_FACTOR,
                  t2_factor: tuple[float, float] = T2_FACTOR) -> RelaxationMaps:
    """The subject's maps with liver T1rho and T2 raised by random factors."""
    a = float(rng.uniform(*t1rho_factor))
    b = float(rng.uniform(*t2_factor))
    liver = subject.labels == LABEL_IDS["liver"]
    t1rho = subject.t1rho_ms.copy()
    t2 = subject.t2_ms.copy()
    t1rho[liver] *= a
    t2[liver] *= b
    return RelaxationMaps(t1rho, t2, a, b)


def noise_sigma(subject: PhantomSubject, snr: float) -> float:
    """Per-channel noise sd for ``snr``, defined as the phantom defines it: mean
    noise-free zero-preparation signal in the liver ROI divided by σ."""
    zero_prep = subject.proton_density.astype(np.float64) * subject.coil
    return float(zero_prep[subject.roi > 0].mean() / snr)


def synthesise(subject: PhantomSubject, maps: RelaxationMaps, role: str, time_ms: float
               ) -> np.ndarray:
    """Noise-free weighted image ``[z, y, x]`` (float32) of ``maps`` for one role/time."""
    return noise_free_signal(subject.proton_density, subject.coil, role, time_ms,
                             maps.t1rho_ms, maps.t2_ms, subject.off_resonance_hz)


def add_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Rician noise of per-channel sd ``sigma`` (the phantom's noise model)."""
    return add_rician_noise(image, sigma, rng)
