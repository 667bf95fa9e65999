"""Image-quality corruptions for the bundled quality task: motion ghosting and low SNR.

Motion during a Cartesian acquisition makes the k-space lines acquired while the
patient had moved inconsistent with the others; after the Fourier transform the object
is replicated as ghosts along the phase-encoding direction (periodic motion such as
breathing gives discrete ghosts, irregular motion a smear). :func:`motion_ghosting`
reproduces that by taking a subset of phase-encoding lines from a rigidly shifted copy
of the image - every p-th line (periodic) or a random subset (irregular). It works on
the noise-free signal; noise is added afterwards, as on a scanner.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Shift of the moved copy (mm) and fraction of corrupted lines (irregular motion).
MOTION_SHIFT_MM = (6.0, 15.0)
IRREGULAR_FRACTION = (0.25, 0.5)
PERIODS = (2, 3, 4)


def motion_ghosting(image: np.ndarray, pixel_mm: float, rng: np.random.Generator,
                    phase_axis: int = 0) -> np.ndarray:
    """A motion-corrupted copy of a 2-D magnitude image (float32, same shape).

    ``phase_axis`` is the phase-encoding axis (0: rows, anterior-posterior in an axial
    slice, the usual choice for the liver).
    """
    image = np.asarray(image, dtype=np.float64)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    shift_mm = rng.uniform(*MOTION_SHIFT_MM)
    shift = (shift_mm * np.cos(angle) / pixel_mm, shift_mm * np.sin(angle) / pixel_mm)
    moved = ndimage.shift(image, shift, order=1, mode="constant", cval=0.0)
    lines = image.shape[phase_axis]
    if rng.random() < 0.5:
        period = int(rng.choice(PERIODS))
        corrupted = (np.arange(lines) + int(rng.integers(period))) % period == 0
    else:
        corrupted = rng.random(lines) < rng.uniform(*IRREGULAR_FRACTION)
    still = np.fft.fftshift(np.fft.fft2(image))
    shaken = np.fft.fftshift(np.fft.fft2(moved))
    index = [slice(None), slice(None)]
    index[phase_axis] = corrupted
    still[tuple(index)] = shaken[tuple(index)]
    return np.abs(np.fft.ifft2(np.fft.ifftshift(still))).astype(np.float32)
