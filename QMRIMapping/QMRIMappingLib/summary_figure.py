"""A one-page PNG of fitted maps: weighted image, maps in ms with colour bars, ROI contour."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import SimpleITK as sitk  # noqa: E402

_DISPLAY_RANGE_MS = {"T1rho": (0, 100), "T2": (0, 80), "T2star": (0, 60)}


def _read(path: Path) -> np.ndarray | None:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path))) if path.is_file() else None


def draw_summary_figure(maps_dir: Path, ground_truth_dir: Path | None, out_file: Path,
                        slice_index: int | None = None) -> Path:
    """Draw each map (and its ground truth, when given) on the middle slice.

    Rows are maps; columns are the fitted map, its SD map and, with ground truth, the
    true map and the absolute error, all in ms on a fixed display range, with the ROI
    outlined. Orientation is radiological (patient right on the image left).
    """
    names = [name for name in ("T1rho", "T2", "T2star") if (maps_dir / f"{name}.nii.gz").is_file()]
    roi = _read(ground_truth_dir / "roi.nii.gz") if ground_truth_dir else None
    columns = 4 if ground_truth_dir else 2
    figure, axes = plt.subplots(len(names), columns, figsize=(3.6 * columns, 3.4 * len(names)),
                                squeeze=False)
    for row, name in enumerate(names):
        fitted = _read(maps_dir / f"{name}.nii.gz")
        index = fitted.shape[0] // 2 if slice_index is None else slice_index
        low, high = _DISPLAY_RANGE_MS.get(name, (0, float(np.nanpercentile(fitted, 99))))
        panels = [(fitted[index], f"{name} NLLS", (low, high), "magma"),
                  (_read(maps_dir / f"{name}_sd.nii.gz")[index], f"{name} SD", (0, 10),
                   "viridis")]
        if ground_truth_dir:
            truth = _read(ground_truth_dir / f"{name}.nii.gz")
            if truth is not None:
                panels += [(truth[index], f"{name} ground truth", (low, high), "magma"),
                           (np.abs(fitted[index] - truth[index]), f"{name} |error|", (0, 10),
                            "inferno")]
        for column, (values, title, limits, colormap) in enumerate(panels):
            axis = axes[row, column]
            shown = axis.imshow(values, cmap=colormap, vmin=limits[0], vmax=limits[1])
            if roi is not None:
                axis.contour(roi[index] > 0, levels=[0.5], colors="cyan", linewidths=0.8)
            axis.set_title(title, fontsize=10)
            axis.set_axis_off()
            bar = figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.02)
            bar.set_label("ms")
    figure.suptitle(f"qmri maps, slice {index + 1} of {fitted.shape[0]} (ROI in cyan)")
    figure.tight_layout()
    figure.savefig(out_file, dpi=110)
    plt.close(figure)
    return out_file
