"""Colour tables of the maps (a continuous relaxation scale) and of the fit-status codes.

Both are created once per scene and found again by name, so many runs share them and a
saved scene carries them along. The relaxation scale runs from dark blue through magenta
and orange to pale yellow: perceptually ordered, readable on a dark background and
distinct from the grey-scale weighted images under it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..fitting import STATUS_DESCRIPTIONS, FitStatus

RELAXATION_COLOR_NAME = "QMRI relaxation (ms)"
STATUS_COLOR_NAME = "QMRI fit status"

#: Anchor colours (position 0..1, RGB 0..1) of the relaxation scale, interpolated linearly.
_RELAXATION_ANCHORS = (
    (0.00, (0.02, 0.02, 0.10)),
    (0.20, (0.20, 0.05, 0.45)),
    (0.45, (0.62, 0.13, 0.50)),
    (0.70, (0.93, 0.40, 0.22)),
    (0.88, (0.99, 0.72, 0.20)),
    (1.00, (0.99, 0.97, 0.70)),
)

#: RGBA of each status code: outside the mask is transparent so the map underneath shows.
STATUS_COLORS = {
    FitStatus.OUTSIDE_MASK: (0.0, 0.0, 0.0, 0.0),
    FitStatus.FITTED: (0.20, 0.70, 0.30, 1.0),
    FitStatus.BOUND_HIT: (0.95, 0.80, 0.10, 1.0),
    FitStatus.TOO_FEW_VALID_POINTS: (0.95, 0.50, 0.10, 1.0),
    FitStatus.FAILED: (0.85, 0.10, 0.10, 1.0),
}


def relaxation_colors(n: int = 256) -> np.ndarray:
    """The relaxation scale as an ``(n, 3)`` RGB array."""
    positions = np.array([p for p, _ in _RELAXATION_ANCHORS])
    anchors = np.array([c for _, c in _RELAXATION_ANCHORS])
    where = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(where, positions, anchors[:, channel]) for channel in range(3)],
                    axis=1)


def user_color_table(scene, name: str, colors: Sequence[Sequence[float]], category: str,
                     labels: list[str] | None = None):
    """The scene's colour table called ``name``, created from RGB(A) rows on first use
    (``labels``: one entry name per row, empty by default).

    Later calls find it by name, so every map of a session shares one table.
    """
    node = scene.GetFirstNodeByName(name)
    if node is not None and node.IsA("vtkMRMLColorTableNode"):
        return node
    node = scene.AddNewNodeByClass("vtkMRMLColorTableNode", name)
    node.SetTypeToUser()
    node.SetNumberOfColors(len(colors))
    for index, row in enumerate(colors):
        alpha = float(row[3]) if len(row) > 3 else 1.0
        label = labels[index] if labels is not None else ""
        node.SetColor(index, label, float(row[0]), float(row[1]), float(row[2]), alpha)
    node.SetAttribute("Category", category)
    return node


def relaxation_color_node(scene):
    """The scene's relaxation colour table (created on first use)."""
    return user_color_table(scene, RELAXATION_COLOR_NAME, relaxation_colors(), "QMRI")


def status_color_node(scene):
    """The scene's fit-status colour table: one named entry per :class:`FitStatus` code."""
    codes = sorted(FitStatus)  # 0 .. n-1, the colour index of each code
    return user_color_table(scene, STATUS_COLOR_NAME, [STATUS_COLORS[c] for c in codes],
                            "QMRI", [STATUS_DESCRIPTIONS[c] for c in codes])
