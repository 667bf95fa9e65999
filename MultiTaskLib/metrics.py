"""Evaluation metrics for regression maps, images, segmentations and classifiers.

Inputs may be NumPy arrays or torch tensors (converted with ``.detach().cpu()``); every
function returns plain Python floats. The module imports NumPy only, so it also works
where torch is not installed (e.g. a 3D Slicer module computing RMAE of NLLS maps).
Everything is computed in float64.

Regression / images: :func:`mae`, :func:`rmae`, :func:`psnr`, :func:`ssim`.
Segmentation: :func:`dice`, :func:`iou`. Classification: :func:`confusion_matrix`,
:func:`accuracy`, :func:`f1` (macro), :func:`mcc`; paired comparison of two classifiers
on the same cases: :func:`mcnemar`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ArrayLike = Any  # np.ndarray, torch.Tensor or anything np.asarray accepts


def _as_array(values: ArrayLike) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def _paired(estimate: ArrayLike, reference: ArrayLike, mask: ArrayLike | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Float64 values of both inputs where the mask is set and both are finite."""
    x = _as_array(estimate).astype(np.float64)
    y = _as_array(reference).astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"estimate shape {x.shape} differs from reference shape {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    if mask is not None:
        inside = _as_array(mask).astype(bool)
        if inside.shape != x.shape:
            raise ValueError(f"mask shape {inside.shape} differs from image shape {x.shape}")
        keep &= inside
    return x[keep], y[keep]


def mae(estimate: ArrayLike, reference: ArrayLike, mask: ArrayLike | None = None) -> float:
    """Mean absolute error mean|x − y| over the mask where both are finite (NaN if none)."""
    x, y = _paired(estimate, reference, mask)
    return float(np.mean(np.abs(x - y))) if x.size else math.nan


def rmae(estimate: ArrayLike, reference: ArrayLike, mask: ArrayLike | None = None) -> float:
    """Relative mean absolute error in percent: 100·Σ|x − y| / Σ|y|.

    Sums run over mask elements where both values are finite (NaN marks unfitted
    voxels), as in the ROI-level RMAE of Huang et al. NaN if nothing is left or Σ|y| = 0.
    """
    x, y = _paired(estimate, reference, mask)
    denominator = np.sum(np.abs(y))
    if x.size == 0 or denominator == 0:
        return math.nan
    return float(100.0 * np.sum(np.abs(x - y)) / denominator)


def psnr(estimate: ArrayLike, reference: ArrayLike, data_range: float | None = None,
         mask: ArrayLike | None = None) -> float:
    """Peak signal-to-noise ratio 10·log10(R² / MSE) in dB.

    R is ``data_range`` or, by default, max(y) − min(y) of the reference over the
    compared elements. Identical inputs give +inf; nothing to compare gives NaN.
    """
    x, y = _paired(estimate, reference, mask)
    if x.size == 0:
        return math.nan
    peak = float(np.ptp(y)) if data_range is None else float(data_range)
    if not peak > 0:
        raise ValueError(f"data range must be positive, got {peak}")
    error = float(np.mean((x - y) ** 2))
    return math.inf if error == 0 else 10.0 * math.log10(peak**2 / error)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 1-D Gaussian of ``size`` taps (the 2-D window is its outer product)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be an odd positive integer, got {size}")
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(offsets**2) / (2.0 * sigma**2))
    return taps / taps.sum()


def _filter_valid(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of the last two axes (no padding, like Wang's code)."""
    size = taps.size
    rows = np.lib.stride_tricks.sliding_window_view(image, size, axis=-1) @ taps
    return np.lib.stride_tricks.sliding_window_view(rows, size, axis=-2) @ taps


def ssim(estimate: ArrayLike, reference: ArrayLike, data_range: float | None = None,
         window_size: int = 11, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03
         ) -> float:
    """Mean structural similarity (Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 2004).

    SSIM(x, y) = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)), eq. 13,
    with local statistics under an 11×11 Gaussian window of σ = 1.5 (eq. 14–16),
    C1 = (K1·L)², C2 = (K2·L)², K1 = 0.01, K2 = 0.03, evaluated where the window fits
    inside the image and averaged (MSSIM, eq. 17). L is ``data_range`` or, by default,
    max − min of the reference. Images are 2-D (…, H, W); leading axes (slices) are
    averaged over too. Inputs must be finite.
    """
    x = _as_array(estimate).astype(np.float64)
    y = _as_array(reference).astype(np.float64)
    if x.shape != y.shape or x.ndim < 2:
        raise ValueError(f"ssim needs two images of the same shape (…, H, W), got {x.shape} "
                         f"and {y.shape}")
    if min(x.shape[-2:]) < window_size:
        raise ValueError(f"images of {x.shape[-2:]} are smaller than the {window_size}-pixel "
                         "window")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("ssim inputs must be finite (replace NaN first)")
    peak = float(np.ptp(y)) if data_range is None else float(data_range)
    if not peak > 0:
        raise ValueError(f"data range must be positive, got {peak}")
    taps = gaussian_window(window_size, sigma)
    mu_x, mu_y = _filter_valid(x, taps), _filter_valid(y, taps)
    var_x = _filter_valid(x * x, taps) - mu_x**2
    var_y = _filter_valid(y * y, taps) - mu_y**2
    cov = _filter_valid(x * y, taps) - mu_x * mu_y
    c1, c2 = (k1 * peak) ** 2, (k2 * peak) ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1)
                                                          * (var_x + var_y + c2))
    return float(index.mean())


def _region(labels: ArrayLike, label: int | None) -> np.ndarray:
    values = _as_array(labels)
    return values.astype(bool) if label is None else values == label


def _regions(pred: ArrayLike, target: ArrayLike, label: int | None
             ) -> tuple[np.ndarray, np.ndarray]:
    a, b = _region(pred, label), _region(target, label)
    if a.shape != b.shape:
        raise ValueError(f"prediction shape {a.shape} differs from target shape {b.shape}")
    return a, b


def dice(pred: ArrayLike, target: ArrayLike, label: int | None = None) -> float:
    """Dice coefficient 2|A ∩ B| / (|A| + |B|) of a segmentation against its target.

    A and B are the elements equal to ``label``, or the non-zero elements when ``label``
    is None (binary masks). Both empty counts as perfect agreement (1.0).
    """
    a, b = _regions(pred, target, label)
    size = int(a.sum()) + int(b.sum())
    return 1.0 if size == 0 else 2.0 * int(np.logical_and(a, b).sum()) / size


def iou(pred: ArrayLike, target: ArrayLike, label: int | None = None) -> float:
    """Intersection over union (Jaccard) |A ∩ B| / |A ∪ B|; regions as in :func:`dice`."""
    a, b = _regions(pred, target, label)
    union = int(np.logical_or(a, b).sum())
    return 1.0 if union == 0 else int(np.logical_and(a, b).sum()) / union


def _labels(pred: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = _as_array(pred).reshape(-1)
    t = _as_array(target).reshape(-1)
    if p.shape != t.shape:
        raise ValueError(f"{p.size} predictions but {t.size} targets")
    for name, values in (("prediction", p), ("target", t)):
        if np.issubdtype(values.dtype, np.floating) and not np.all(values == np.round(values)):
            raise ValueError(f"{name} labels must be integers (class indices)")
    p, t = p.astype(np.int64), t.astype(np.int64)
    if p.size and (p.min() < 0 or t.min() < 0):
        raise ValueError("class labels must be >= 0")
    return p, t


def confusion_matrix(pred: ArrayLike, target: ArrayLike, num_classes: int | None = None
                     ) -> np.ndarray:
    """Counts C[i, j] of cases of true class i predicted as class j (int64, K × K)."""
    p, t = _labels(pred, target)
    needed = int(max(p.max(initial=-1), t.max(initial=-1))) + 1
    classes = needed if num_classes is None else int(num_classes)
    if classes < needed:
        raise ValueError(f"labels go up to {needed - 1} but num_classes is {num_classes}")
    counts = np.bincount(t * classes + p, minlength=classes * classes)
    return counts.reshape(classes, classes).astype(np.int64)


def accuracy(pred: ArrayLike, target: ArrayLike) -> float:
    """Fraction of correct predictions (NaN for no cases)."""
    p, t = _labels(pred, target)
    return float(np.mean(p == t)) if p.size else math.nan


def f1(pred: ArrayLike, target: ArrayLike, num_classes: int | None = None) -> float:
    """Macro-averaged F1: mean over classes of 2TP / (2TP + FP + FN).

    The mean runs over the classes that occur in the targets or the predictions (a
    class that occurs in neither has no defined F1). A class predicted but never true,
    or true but never predicted, scores 0. Equals the harmonic mean of precision and
    recall wherever those are defined. NaN for no cases.
    """
    matrix = confusion_matrix(pred, target, num_classes)
    tp = np.diag(matrix).astype(np.float64)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    denominator = 2 * tp + fp + fn
    present = denominator > 0
    if not present.any():
        return math.nan
    return float(np.mean(2 * tp[present] / denominator[present]))


def mcc(pred: ArrayLike, target: ArrayLike, num_classes: int | None = None) -> float:
    """Matthews correlation coefficient, multi-class form R_K of Gorodkin (2004).

    From the confusion matrix C with s cases, c = trace(C) correct, t_k = Σ_j C[k, j]
    true and p_k = Σ_i C[i, k] predicted cases of class k:

        MCC = (c·s − Σ_k p_k·t_k) / sqrt((s² − Σ_k p_k²)(s² − Σ_k t_k²))

    which reduces to (TP·TN − FP·FN)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) for two classes.
    0 when the denominator is 0 (a constant prediction or target); NaN for no cases.
    """
    matrix = confusion_matrix(pred, target, num_classes).astype(np.float64)
    s = matrix.sum()
    if s == 0:
        return math.nan
    c = np.trace(matrix)
    t = matrix.sum(axis=1)
    p = matrix.sum(axis=0)
    denominator = math.sqrt((s * s - float(p @ p)) * (s * s - float(t @ t)))
    return 0.0 if denominator == 0 else float((c * s - float(p @ t)) / denominator)


def mcnemar(test_a_correct: ArrayLike, test_b_correct: ArrayLike, exact: bool | None = None
            ) -> tuple[float, float]:
    """McNemar's test of two classifiers evaluated on the same cases → (statistic, p).

    Only discordant cases count: b = A right and B wrong, c = A wrong and B right. Under
    the null hypothesis of equal error rates b ~ Binomial(b + c, ½).

    * exact (default when b + c < 25): statistic = min(b, c),
      p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½) (two-sided binomial test).
    * otherwise: χ² = (max(|b − c| − 1, 0))² / (b + c) with Edwards' continuity correction,
      p from χ² with 1 degree of freedom: p = erfc(sqrt(χ²/2)).

    No discordant cases gives (0.0, 1.0).
    """
    a = _as_array(test_a_correct).astype(bool).reshape(-1)
    b_correct = _as_array(test_b_correct).astype(bool).reshape(-1)
    if a.shape != b_correct.shape:
        raise ValueError(f"{a.size} results for test A but {b_correct.size} for test B")
    b = int(np.sum(a & ~b_correct))
    c = int(np.sum(~a & b_correct))
    n = b + c
    if n == 0:
        return 0.0, 1.0
    if exact is None:
        exact = n < 25
    if exact:
        k = min(b, c)
        tail = sum(math.comb(n, i) for i in range(k + 1))
        return float(k), min(1.0, 2 * tail / 2**n)
    statistic = max(abs(b - c) - 1, 0) ** 2 / n
    return float(statistic), float(math.erfc(math.sqrt(statistic / 2.0)))


def sign_test(a: ArrayLike, b: ArrayLike) -> tuple[int, int, float]:
    """One-sided exact sign test that ``a`` beats ``b`` in paired runs → (wins, n, p).

    For paired results (e.g. one score per training seed) wins = #(a > b) among the n
    pairs that differ (ties dropped); under the null hypothesis wins ~ Binomial(n, ½) and
    p = P(X ≥ wins). Five wins out of five gives p = 1/32 = 0.031, the smallest p five
    seeds can give. No differing pair gives (0, 0, 1.0).
    """
    first = _as_array(a).astype(float).reshape(-1)
    second = _as_array(b).astype(float).reshape(-1)
    if first.shape != second.shape:
        raise ValueError(f"{first.size} results for A but {second.size} for B")
    differ = first != second
    wins, n = int(np.sum(first[differ] > second[differ])), int(np.sum(differ))
    tail = sum(math.comb(n, i) for i in range(wins, n + 1))
    return wins, n, tail / 2**n
