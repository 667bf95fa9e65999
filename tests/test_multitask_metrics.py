"""Metrics against independent formulas (brute force, confusion-matrix algebra, scipy.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from MultiTaskLib import metrics


def test_mae_and_rmae_skip_nan_and_respect_mask():
    estimate = np.array([10.0, 22.0, np.nan, 40.0, 100.0])
    reference = np.array([12.0, 20.0, 30.0, np.nan, 50.0])
    mask = np.array([True, True, True, True, False])
    assert metrics.mae(estimate, reference, mask) == pytest.approx((2 + 2) / 2)
    assert metrics.rmae(estimate, reference, mask) == pytest.approx(100 * 4 / 32)
    assert metrics.rmae(estimate, reference) == pytest.approx(100 * 54 / 82)
    assert math.isnan(metrics.rmae(estimate, reference, np.zeros(5, bool)))
    assert math.isnan(metrics.mae([np.nan], [1.0]))
    # torch tensors are accepted
    assert metrics.rmae(torch.tensor(estimate), torch.tensor(reference), torch.tensor(mask)) \
        == pytest.approx(12.5)
    with pytest.raises(ValueError, match="shape"):
        metrics.mae(np.zeros(3), np.zeros(4))


def test_psnr_matches_definition():
    rng = np.random.default_rng(0)
    reference = rng.uniform(0, 200, (16, 16))
    estimate = reference + rng.normal(0, 5, reference.shape)
    mse = np.mean((estimate - reference) ** 2)
    peak = reference.max() - reference.min()
    assert metrics.psnr(estimate, reference) == pytest.approx(10 * np.log10(peak**2 / mse))
    assert metrics.psnr(estimate, reference, data_range=255) == \
        pytest.approx(20 * np.log10(255) - 10 * np.log10(mse))
    assert metrics.psnr(reference, reference) == math.inf


def ssim_brute_force(x, y, peak, size=11, sigma=1.5):
    """SSIM by its definition: weighted local statistics window by window (Wang et al.)."""
    offsets = np.arange(size) - (size - 1) / 2
    g = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma**2))
    w = g / g.sum()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    values = []
    for i in range(x.shape[0] - size + 1):
        for j in range(x.shape[1] - size + 1):
            px, py = x[i:i + size, j:j + size], y[i:i + size, j:j + size]
            mx, my = np.sum(w * px), np.sum(w * py)
            vx, vy = np.sum(w * (px - mx) ** 2), np.sum(w * (py - my) ** 2)
            cxy = np.sum(w * (px - mx) * (py - my))
            values.append((2 * mx * my + c1) * (2 * cxy + c2)
                          / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return float(np.mean(values))


def test_ssim_matches_windowed_definition():
    rng = np.random.default_rng(1)
    reference = rng.uniform(0, 1, (20, 23))
    estimate = reference + rng.normal(0, 0.1, reference.shape)
    peak = reference.max() - reference.min()
    expected = ssim_brute_force(estimate, reference, peak)
    assert metrics.ssim(estimate, reference) == pytest.approx(expected, rel=1e-10)
    assert metrics.ssim(reference, reference) == pytest.approx(1.0)
    assert metrics.ssim(estimate, reference) < 0.99
    stack = np.stack([reference, reference])
    assert metrics.ssim(np.stack([estimate, reference]), stack) == pytest.approx((expected + 1) / 2)
    with pytest.raises(ValueError, match="smaller"):
        metrics.ssim(np.zeros((5, 5)), np.ones((5, 5)))


def test_dice_and_iou():
    pred = np.array([[0, 1, 1], [2, 2, 0]])
    target = np.array([[1, 1, 0], [2, 0, 0]])
    # Binary (non-zero) regions: pred {1,2,3,4}, target {0,1,3}: overlap {1,3}.
    assert metrics.dice(pred, target) == pytest.approx(2 * 2 / (4 + 3))
    assert metrics.iou(pred, target) == pytest.approx(2 / 5)
    assert metrics.dice(pred, target, label=2) == pytest.approx(2 * 1 / (2 + 1))
    assert metrics.iou(pred, target, label=2) == pytest.approx(1 / 2)
    assert metrics.dice(np.zeros(4), np.zeros(4)) == 1.0
    assert metrics.iou(np.zeros(4), np.ones(4)) == 0.0


def test_confusion_matrix_accuracy_and_macro_f1():
    target = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
    pred = np.array([0, 1, 0, 1, 2, 2, 2, 0, 2, 1])
    matrix = metrics.confusion_matrix(pred, target)
    expected = np.array([[2, 1, 0], [0, 2, 1], [1, 0, 3]])
    np.testing.assert_array_equal(matrix, expected)
    assert metrics.accuracy(pred, target) == pytest.approx(7 / 10)
    # Per class: precision and recall by hand, F1 as their harmonic mean.
    scores = []
    for k in range(3):
        precision = expected[k, k] / expected[:, k].sum()
        recall = expected[k, k] / expected[k, :].sum()
        scores.append(2 * precision * recall / (precision + recall))
    assert metrics.f1(pred, target) == pytest.approx(np.mean(scores))
    # A class that is predicted but never true scores 0 and counts in the mean.
    assert metrics.f1([0, 1, 1], [0, 0, 0]) == pytest.approx((2 * 1 / (2 + 0 + 2) + 0) / 2)
    assert metrics.confusion_matrix([0], [1], num_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="integers"):
        metrics.accuracy([0.5], [1])


def test_mcc_binary_matches_textbook_formula():
    rng = np.random.default_rng(2)
    target = rng.integers(0, 2, 200)
    pred = np.where(rng.uniform(size=200) < 0.8, target, 1 - target)
    tp = np.sum((pred == 1) & (target == 1))
    tn = np.sum((pred == 0) & (target == 0))
    fp = np.sum((pred == 1) & (target == 0))
    fn = np.sum((pred == 0) & (target == 1))
    expected = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert metrics.mcc(pred, target) == pytest.approx(expected)


def test_mcc_multiclass_matches_correlation_of_one_hot_codes():
    rng = np.random.default_rng(3)
    target = rng.integers(0, 4, 300)
    pred = np.where(rng.uniform(size=300) < 0.6, target, rng.integers(0, 4, 300))
    x, y = np.eye(4)[pred], np.eye(4)[target]
    # Gorodkin's R_K: covariance summed over the K indicator columns, normalised.
    xc, yc = x - x.mean(0), y - y.mean(0)
    expected = np.sum(xc * yc) / math.sqrt(np.sum(xc * xc) * np.sum(yc * yc))
    assert metrics.mcc(pred, target) == pytest.approx(expected, rel=1e-12)
    assert metrics.mcc(target, target) == pytest.approx(1.0)
    assert metrics.mcc(np.zeros(10, int), target[:10]) == 0.0  # constant prediction


@pytest.mark.parametrize("b, c", [(3, 9), (0, 5), (7, 7), (1, 12)])
def test_mcnemar_exact_matches_binomial_test(b, c):
    a_correct = np.array([True] * b + [False] * c + [True] * 20 + [False] * 4)
    b_correct = np.array([False] * b + [True] * c + [True] * 20 + [False] * 4)
    statistic, p = metrics.mcnemar(a_correct, b_correct)
    assert statistic == min(b, c)
    expected = stats.binomtest(min(b, c), b + c, 0.5, alternative="two-sided").pvalue
    assert p == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("a, b", [([3, 4, 5, 6, 7], [1, 2, 3, 4, 5]),
                                  ([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]),
                                  ([0.9, 0.8, 0.7, 0.95], [0.8, 0.8, 0.75, 0.9])])
def test_sign_test_matches_one_sided_binomial_test(a, b):
    wins, n, p = metrics.sign_test(a, b)
    differ = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert (wins, n) == (sum(x > y for x, y in differ), len(differ))
    assert p == pytest.approx(stats.binomtest(wins, n, 0.5, alternative="greater").pvalue,
                              rel=1e-12)
    assert metrics.sign_test([1.0, 2.0], [1.0, 2.0]) == (0, 0, 1.0)


def test_mcnemar_chi_square_with_continuity_correction():
    b, c = 40, 18
    a_correct = np.array([True] * b + [False] * c + [True] * 100)
    b_correct = np.array([False] * b + [True] * c + [True] * 100)
    statistic, p = metrics.mcnemar(torch.tensor(a_correct), torch.tensor(b_correct))
    assert statistic == pytest.approx((abs(b - c) - 1) ** 2 / (b + c))
    assert p == pytest.approx(stats.chi2.sf((abs(b - c) - 1) ** 2 / (b + c), df=1), rel=1e-9)
    forced_exact = metrics.mcnemar(a_correct, b_correct, exact=True)[1]
    assert forced_exact == pytest.approx(stats.binomtest(c, b + c, 0.5).pvalue, rel=1e-9)
    assert metrics.mcnemar([True, False], [True, False]) == (0.0, 1.0)
