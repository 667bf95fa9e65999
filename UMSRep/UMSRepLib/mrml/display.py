"""How the heat map is shown: a transparent-to-red-to-yellow colour table and an overlay.

Low Grad-CAM values are transparent so the anatomy shows through; high values are hot.
The overlay is set on the scene's slice composite nodes (foreground layer, adjustable
opacity), which is what Slicer's slice views display - in an app-free scene there are
none and nothing happens.
"""

from __future__ import annotations

import numpy as np

from QMRIMappingLib.mrml.colors import user_color_table
from QMRIMappingLib.mrml.scene import nodes_by_class

HEAT_COLOR_NAME = "UMSRep heat map"
DEFAULT_OPACITY = 0.5


def heat_colors(n: int = 256) -> np.ndarray:
    """``(n, 4)`` RGBA: transparent black -> red -> yellow, alpha rising with the value."""
    t = np.linspace(0.0, 1.0, n)
    red = np.clip(2.0 * t, 0.0, 1.0)
    green = np.clip(2.0 * t - 1.0, 0.0, 1.0)
    blue = np.zeros(n)
    alpha = np.clip(1.5 * t, 0.0, 1.0)
    return np.stack([red, green, blue, alpha], axis=1)


def heat_color_node(scene):
    """The scene's heat-map colour table (created once, then found by name)."""
    return user_color_table(scene, HEAT_COLOR_NAME, heat_colors(), "UMSRep")


def style_heatmap(scene, volume_node) -> None:
    """Colour table and a fixed 0..1 window on the heat-map volume's display node."""
    display = volume_node.GetDisplayNode()
    if display is None:
        volume_node.CreateDefaultDisplayNodes()
        display = volume_node.GetDisplayNode()
    if display is None:  # app-free scene without a volumes logic: add one by hand
        display = scene.AddNewNodeByClass("vtkMRMLScalarVolumeDisplayNode")
        volume_node.SetAndObserveDisplayNodeID(display.GetID())
    display.SetAndObserveColorNodeID(heat_color_node(scene).GetID())
    display.SetAutoWindowLevel(False)
    display.SetWindowLevelMinMax(0.0, 1.0)


def show_overlay(scene, background_node, heatmap_node, opacity: float = DEFAULT_OPACITY) -> int:
    """Show ``heatmap_node`` over ``background_node`` in every slice view; returns how
    many slice views were set."""
    composites = nodes_by_class(scene, "vtkMRMLSliceCompositeNode")
    for composite in composites:
        if background_node is not None:
            composite.SetBackgroundVolumeID(background_node.GetID())
        composite.SetForegroundVolumeID(heatmap_node.GetID())
        composite.SetForegroundOpacity(float(opacity))
    return len(composites)


def set_overlay_opacity(scene, opacity: float) -> None:
    """Change the foreground opacity of every slice view (the panel's slider)."""
    for composite in nodes_by_class(scene, "vtkMRMLSliceCompositeNode"):
        composite.SetForegroundOpacity(float(opacity))
