"""Smooth 2-D shapes as implicit functions on coordinate images.

Every shape function returns an approximate signed distance in millimetres: negative
inside, positive outside. Organ outlines are ellipses or polar radius functions with a
few random Fourier harmonics, so contours are smooth but irregular, and shapes can be
joined with a smooth minimum instead of showing the seams of a plain union.
"""

from __future__ import annotations

import numpy as np


def random_harmonics(rng: np.random.Generator, orders: range, amplitude: float
                     ) -> list[tuple[int, float, float]]:
    """Random (order, amplitude, phase) triples whose amplitude falls off as 1/order."""
    return [(k, amplitude * rng.uniform(0.3, 1.0) / k, rng.uniform(0.0, 2.0 * np.pi))
            for k in orders]


def harmonic_factor(theta: np.ndarray, harmonics: list[tuple[int, float, float]]
                    ) -> np.ndarray:
    """``1 + sum a_k cos(k theta + phi_k)``: a smooth radial modulation."""
    factor = np.ones_like(theta)
    for order, amplitude, phase in harmonics:
        factor += amplitude * np.cos(order * theta + phase)
    return factor


def ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float,
            angle: float = 0.0, harmonics: list | None = None) -> np.ndarray:
    """Signed distance (approximate, mm) to a rotated, optionally wobbly ellipse.

    ``a`` is the semi-axis along the direction ``angle`` (radians, from +x toward +y),
    ``b`` the one across it.
    """
    dx, dy = x - cx, y - cy
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    u = dx * cos_a + dy * sin_a
    v = -dx * sin_a + dy * cos_a
    rho = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    if harmonics:
        rho = rho / harmonic_factor(np.arctan2(v, u), harmonics)
    return (rho - 1.0) * min(a, b)


def tapered_ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float,
                    b: float, angle: float, taper: float,
                    harmonics: list | None = None) -> np.ndarray:
    """An ellipse whose minor semi-axis shrinks along +major axis: a wedge-like lobe.

    At ``u = +a`` the half-thickness is ``b * (1 - taper)``; at ``u = -a`` it is
    ``b * (1 + taper)``.
    """
    dx, dy = x - cx, y - cy
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    u = dx * cos_a + dy * sin_a
    v = -dx * sin_a + dy * cos_a
    half = b * np.clip(1.0 - taper * u / a, 0.2, None)
    rho = np.sqrt((u / a) ** 2 + (v / half) ** 2)
    if harmonics:
        rho = rho / harmonic_factor(np.arctan2(v, u), harmonics)
    return (rho - 1.0) * half


def smooth_union(d1: np.ndarray, d2: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum of two distances; ``k`` (mm) sets the fillet size."""
    h = np.clip(0.5 + 0.5 * (d2 - d1) / k, 0.0, 1.0)
    return d2 * (1.0 - h) + d1 * h - k * h * (1.0 - h)


def capsule(x: np.ndarray, y: np.ndarray, points: np.ndarray, radius: float) -> np.ndarray:
    """Signed distance to a polyline of round-ended tubes of the given radius."""
    distance = np.full(np.broadcast(x, y).shape, np.inf)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:], strict=True):
        ex, ey = x1 - x0, y1 - y0
        length2 = ex * ex + ey * ey
        t = np.clip(((x - x0) * ex + (y - y0) * ey) / length2, 0.0, 1.0)
        distance = np.minimum(distance, np.hypot(x - x0 - t * ex, y - y0 - t * ey))
    return distance - radius


def profile(z: float, centre: float, half_length: float) -> float:
    """Cross-section scale of an ellipsoid-like organ at height ``z``: 1 at its centre,
    0 beyond ``centre +/- half_length``."""
    s = 1.0 - ((z - centre) / half_length) ** 2
    return float(np.sqrt(s)) if s > 0.0 else 0.0
