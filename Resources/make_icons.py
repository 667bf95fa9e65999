"""Draw the extension and module icons (128x128 PNG) so they can be regenerated.

Both show a stylised liver (anterior view, the large right lobe on the image left as in
radiological display) filled with a colour-mapped relaxation map, with signal-decay
curves over it: the module icon one T2-like curve with its echo samples, the extension
icon the two curves (T1rho and T2) that the multi-task fit estimates together.

Run from anywhere: ``python Resources/make_icons.py``. Needs numpy and matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, PathPatch
from matplotlib.path import Path as MplPath

ROOT = Path(__file__).resolve().parent.parent
MODULE_ICON = ROOT / "QMRIMapping" / "Resources" / "Icons" / "QMRIMapping.png"
EXTENSION_ICON = ROOT / "Resources" / "Icons" / "SlicerMultiTaskQMRI.png"
SIZE_PX = 128

# Outline of the liver in a unit square, clockwise from the right-lobe dome.
LIVER_POINTS = np.array([
    (0.10, 0.60), (0.16, 0.76), (0.30, 0.86), (0.48, 0.88), (0.64, 0.84), (0.80, 0.76),
    (0.93, 0.66), (0.95, 0.60), (0.84, 0.56), (0.68, 0.52), (0.55, 0.46), (0.46, 0.34),
    (0.34, 0.20), (0.22, 0.14), (0.13, 0.20), (0.08, 0.38),
])


def closed_spline(points: np.ndarray, samples_per_segment: int = 24) -> np.ndarray:
    """Smooth closed curve through ``points`` (uniform Catmull-Rom), for a rounded outline."""
    count = len(points)
    curve = []
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]
    for index in range(count):
        p0, p1, p2, p3 = (points[(index + offset) % count] for offset in (-1, 0, 1, 2))
        curve.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                            + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    curve = np.concatenate(curve)
    return np.vstack([curve, curve[:1]])


def new_canvas():
    # A bare Figure (no pyplot) renders with Agg and needs no display or backend choice.
    figure = Figure(figsize=(SIZE_PX / 100, SIZE_PX / 100), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_axis_off()
    figure.patch.set_alpha(0.0)
    return figure, axes


def draw_liver(axes, colormap: str) -> None:
    """Liver filled with a smooth map: relaxation time rising towards the left lobe."""
    outline = closed_spline(LIVER_POINTS)
    patch = PathPatch(MplPath(outline), facecolor="none", edgecolor="#3a1f14", linewidth=2.2,
                      zorder=3)
    axes.add_patch(patch)
    y, x = np.mgrid[0:1:256j, 0:1:256j]
    relaxation = 0.35 + 0.65 * x + 0.08 * np.sin(9 * x + 5 * y) * np.cos(7 * y)
    image = axes.imshow(relaxation, extent=(0, 1, 0, 1), origin="lower", cmap=colormap,
                        vmin=0.2, vmax=1.1, interpolation="bilinear", zorder=1)
    image.set_clip_path(patch)


def draw_decay(axes, rate: float, amplitude: float, color: str, with_samples: bool) -> None:
    """A signal-decay curve S = A exp(-rate t), optionally with its sampled echoes."""
    t = np.linspace(0.08, 0.92, 200)
    signal = 0.16 + amplitude * np.exp(-rate * (t - 0.08))
    axes.plot(t, signal, color="black", linewidth=3.6, alpha=0.35, zorder=4,
              solid_capstyle="round")
    axes.plot(t, signal, color=color, linewidth=2.2, zorder=5, solid_capstyle="round")
    if with_samples:
        samples = np.array([0.12, 0.28, 0.44, 0.60, 0.76])
        axes.scatter(samples, 0.16 + amplitude * np.exp(-rate * (samples - 0.08)), s=16,
                     color=color, edgecolors="black", linewidths=0.6, zorder=6)


def make_module_icon(path: Path) -> None:
    figure, axes = new_canvas()
    draw_liver(axes, "inferno")
    draw_decay(axes, rate=3.2, amplitude=0.72, color="white", with_samples=True)
    save(figure, path)


def make_extension_icon(path: Path) -> None:
    figure, axes = new_canvas()
    axes.add_patch(FancyBboxPatch((0.03, 0.03), 0.94, 0.94,
                                  boxstyle="round,pad=0,rounding_size=0.16",
                                  facecolor="#16324f", edgecolor="none", zorder=0))
    draw_liver(axes, "viridis")
    draw_decay(axes, rate=2.2, amplitude=0.70, color="#ffd166", with_samples=False)
    draw_decay(axes, rate=4.8, amplitude=0.70, color="white", with_samples=False)
    save(figure, path)


def save(figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, transparent=True)
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    make_module_icon(MODULE_ICON)
    make_extension_icon(EXTENSION_ICON)


if __name__ == "__main__":
    main()
