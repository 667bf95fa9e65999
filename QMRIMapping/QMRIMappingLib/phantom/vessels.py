"""Branching hepatic vessels and bile ducts as 3-D tubes, painted into the label map.

Hepatic veins fan out from the inferior vena cava and run down and forward through the
liver; portal veins branch from the porta hepatis into the right and left lobes, each
accompanied by a thinner bile duct. Each tree is a random binary tree of straight tube
segments whose radius and length shrink at every generation. A segment shows in a slice
where the slice plane passes within its radius (plus a little of the slice thickness,
since thick slices show vessels that pass partly through them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import PhantomGrid

#: Half of the slab (mm) around a slice centre within which a vessel still shows.
VISIBLE_HALF_SLAB_MM = 2.0


@dataclass(frozen=True)
class Segment:
    """One straight tube from ``start`` to ``end`` (x, y, z mm) with a radius (mm)."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    radius: float
    generation: int


def grow_tree(rng: np.random.Generator, start: np.ndarray, azimuth: float, slope: float,
              length: float, radius: float, depth: int, spread: tuple[float, float] =
              (0.35, 0.7), generation: int = 0) -> list[Segment]:
    """A random binary tree of segments.

    ``azimuth`` is the in-plane direction (radians from +x toward +y) and ``slope`` the
    rise in z per millimetre travelled in plane. Children turn by a random angle in
    ``spread`` (radians) to either side and are shorter and thinner.
    """
    direction = np.array([np.cos(azimuth), np.sin(azimuth), slope])
    direction /= np.linalg.norm(direction)
    end = start + direction * length
    segments = [Segment(tuple(start), tuple(end), radius, generation)]
    if depth <= 0:
        return segments
    for side in (-1.0, 1.0):
        turn = side * rng.uniform(*spread)
        segments += grow_tree(
            rng, end, azimuth + turn, slope + rng.uniform(-0.35, 0.35),
            length * rng.uniform(0.65, 0.85), max(radius * rng.uniform(0.62, 0.78), 1.0),
            depth - 1, spread, generation + 1)
    return segments


def companion_ducts(segments: list[Segment], max_generation: int) -> list[Segment]:
    """Thin bile ducts running alongside the first generations of a portal tree."""
    ducts = []
    for seg in segments:
        if seg.generation > max_generation:
            continue
        start, end = np.asarray(seg.start), np.asarray(seg.end)
        axis = end - start
        normal = np.array([-axis[1], axis[0], 0.0])
        normal /= max(np.linalg.norm(normal), 1e-9)
        duct_radius = max(0.3 * seg.radius, 1.2)
        offset = normal * (seg.radius + duct_radius + 1.2)
        ducts.append(Segment(tuple(start + offset), tuple(end + offset), duct_radius,
                             seg.generation))
    return ducts


def paint_segments(labels: np.ndarray, grid: PhantomGrid, segments: list[Segment],
                   value: int, inside: int) -> None:
    """Set ``labels`` to ``value`` where a segment passes and the label is ``inside``.

    Only a bounding box around each segment is evaluated, so painting a hundred
    segments costs little more than one.
    """
    nz, ny, nx = labels.shape
    for seg in segments:
        p0, p1 = np.asarray(seg.start), np.asarray(seg.end)
        reach = seg.radius + VISIBLE_HALF_SLAB_MM
        lo, hi = np.minimum(p0, p1) - reach, np.maximum(p0, p1) + reach
        c0 = max(int(np.floor(grid.column_of(lo[0]))), 0)
        c1 = min(int(np.ceil(grid.column_of(hi[0]))) + 1, nx)
        r0 = max(int(np.floor(grid.row_of(lo[1]))), 0)
        r1 = min(int(np.ceil(grid.row_of(hi[1]))) + 1, ny)
        if c0 >= c1 or r0 >= r1:
            continue
        x = grid.x_mm[c0:c1][None, :]
        y = grid.y_mm[r0:r1][:, None]
        axis = p1 - p0
        length2 = float(axis @ axis)
        for k in range(nz):
            z = grid.z_mm[k]
            if z < lo[2] or z > hi[2]:
                continue
            t = ((x - p0[0]) * axis[0] + (y - p0[1]) * axis[1] + (z - p0[2]) * axis[2])
            t = np.clip(t / length2, 0.0, 1.0)
            dx = x - p0[0] - t * axis[0]
            dy = y - p0[1] - t * axis[1]
            dz = np.maximum(np.abs(z - p0[2] - t * axis[2]) - VISIBLE_HALF_SLAB_MM, 0.0)
            hit = dx * dx + dy * dy + dz * dz <= seg.radius ** 2
            window = labels[k, r0:r1, c0:c1]
            window[hit & (window == inside)] = value
