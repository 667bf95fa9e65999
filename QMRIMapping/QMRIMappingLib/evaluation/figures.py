"""PNG figures of the evaluation (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TASKS = ("T1rho", "T2")
_RANGES = {"T1rho": (20.0, 80.0), "T2": (15.0, 65.0)}


def example_maps_figure(path: Path, case, maps: dict[str, dict[str, np.ndarray]],
                        slice_index: int = 0) -> Path:
    """Ground truth, each method's map and its |error| for one slice of one subject."""
    names = list(maps)
    fig, axes = plt.subplots(4, len(names) + 1, figsize=(2.2 * (len(names) + 1), 8.4))
    rows, cols = np.nonzero(case.regions["liver"][slice_index] | case.regions["roi"][
        slice_index])  # the liver, where the ROI and the vessels are
    if rows.size == 0:
        rows, cols = np.nonzero(case.mask[slice_index])
    crop = (slice(max(rows.min() - 6, 0), rows.max() + 7),
            slice(max(cols.min() - 6, 0), cols.max() + 7))
    for t, task in enumerate(TASKS):
        low, high = _RANGES[task]
        truth = case.gt[task][slice_index][crop]
        axes[2 * t, 0].imshow(truth, vmin=low, vmax=high, cmap="viridis")
        axes[2 * t, 0].set_title(f"ground truth {task}", fontsize=8)
        axes[2 * t + 1, 0].imshow(case.regions["roi"][slice_index][crop], cmap="gray")
        axes[2 * t + 1, 0].set_title("liver ROI", fontsize=8)
        for m, name in enumerate(names):
            values = maps[name][task][slice_index][crop]
            axes[2 * t, m + 1].imshow(values, vmin=low, vmax=high, cmap="viridis")
            axes[2 * t, m + 1].set_title(f"{name} {task}", fontsize=8)
            error = np.abs(values - truth)
            axes[2 * t + 1, m + 1].imshow(error, vmin=0, vmax=0.25 * high, cmap="magma")
            axes[2 * t + 1, m + 1].set_title(f"|error| (0-{0.25 * high:.0f} ms)", fontsize=8)
    for axis in axes.ravel():
        axis.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=60)
    plt.close(fig)
    return path


def lambda_figure(path: Path, rows: list[dict], homou: dict[str, float]) -> Path:
    """Fig. 3 style: RMAE of each map against the manual weight lambda_a (T1rho)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    lambdas = [row["lambda_a"] for row in rows]
    for axis, task in zip(axes, TASKS, strict=True):
        axis.plot(lambdas, [row[f"{task} RMAE %"] for row in rows], "o-", label="manual λ")
        axis.axhline(homou[task], color="C3", ls="--", label="HOMOU (learned)")
        axis.set_xlabel("λa (weight of the T1rho loss; T2 gets 1 − λa)")
        axis.set_ylabel(f"{task} RMAE % vs ground truth")
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def bias_variance_figure(path: Path, rows: list[dict]) -> Path:
    """Label choice: signed bias against SD over noise draws, one point per method and map."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for axis, task in zip(axes, TASKS, strict=True):
        for k, row in enumerate(rows):
            axis.scatter(row[f"{task} SD %"], row[f"{task} bias %"], color=f"C{k}",
                         label=row["method"])
        axis.set_xlabel("SD over noise draws (% of truth)")
        axis.set_ylabel("mean signed bias (% of truth)")
        axis.set_title(task)
    axes[1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
