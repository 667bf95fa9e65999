"""Tests of the network losses (QMRIMappingLib.networks.losses)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from MultiTaskLib.laplace import laplace_nll
from QMRIMappingLib.networks.dataset import MappingSliceDataset
from QMRIMappingLib.networks.losses import (
    LossOptions,
    heteroscedastic_relaxation_loss,
    relaxation_loss,
    relaxation_residual,
    supervised_loss,
    task_losses,
)
from QMRIMappingLib.networks.models import MappingOutput
from QMRIMappingLib.networks.samples import samples_from_subject
from QMRIMappingLib.phantom import generate_subject

TIMES = {"T1rho": (0.0, 10.0, 30.0, 50.0), "T2": (0.0, 18.2, 34.6, 51.0)}


def _decay(s0: torch.Tensor, t_ms: torch.Tensor, times) -> torch.Tensor:
    """Noise-free series (B, N, H, W) in float64: S0·exp(-t/T)."""
    return torch.cat([s0 * torch.exp(-t / t_ms) for t in times], dim=1)


@pytest.fixture(scope="module")
def ideal_batch():
    """One noise-free phantom slice (no shim artifact, no motion), as a collated batch."""
    subject = generate_subject(5, matrix=64, n_slices=1, snr=math.inf, shim_artifact=False)
    data = MappingSliceDataset(samples_from_subject(subject), train=False)
    return torch.utils.data.default_collate([data[0]])


def test_residual_matches_the_pairwise_formula():
    """r(x) = Σ over ordered pairs i != j of |I_i - I_j·exp((t_j - t_i)/T)| (eqs. 3, 4)."""
    rng = np.random.default_rng(0)
    series = rng.uniform(0.1, 1.0, (2, 4, 3, 3))
    t_ms = rng.uniform(20.0, 80.0, (2, 1, 3, 3))
    times = np.array(TIMES["T2"])
    expected = np.zeros_like(t_ms)
    for i in range(4):
        for j in range(4):
            expected += np.abs(series[:, i:i + 1]
                               - series[:, j:j + 1] * np.exp((times[j] - times[i]) / t_ms))
    got = relaxation_residual(torch.from_numpy(series), torch.from_numpy(times),
                              torch.from_numpy(t_ms))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_relaxation_loss_is_zero_for_synthetic_truth_and_positive_otherwise():
    torch.manual_seed(0)
    s0 = torch.rand(2, 1, 8, 8, dtype=torch.float64) + 0.5
    t_true = 20.0 + 60.0 * torch.rand(2, 1, 8, 8, dtype=torch.float64)
    times = torch.tensor(TIMES["T1rho"], dtype=torch.float64)
    series = _decay(s0, t_true, times)
    mask = torch.ones_like(t_true, dtype=torch.bool)
    assert relaxation_loss(series, times, t_true, mask).item() < 1e-13
    assert relaxation_loss(series, times, 1.2 * t_true, mask).item() > 0.1


def test_relaxation_loss_vanishes_on_noise_free_phantom_with_true_maps(ideal_batch):
    batch = ideal_batch
    mask = batch["mask"] > 0
    for task in ("T1rho", "T2"):
        truth = torch.nan_to_num(batch["gt"][task], nan=50.0).double()
        series = batch["series"][task].double()
        exact = relaxation_loss(series, batch["times"][task], truth, mask).item()
        wrong = relaxation_loss(series, batch["times"][task], 1.3 * truth, mask).item()
        # The phantom stores float32 images: exact up to float32 rounding (~1e-7 relative).
        assert exact < 1e-6, task
        assert wrong > 1e-2, task
        assert wrong > 1e4 * exact, task


def test_relaxation_loss_gradient_matches_finite_differences():
    torch.manual_seed(1)
    s0 = torch.rand(1, 1, 3, 3, dtype=torch.float64) + 0.5
    times = torch.tensor(TIMES["T2"], dtype=torch.float64)
    series = _decay(s0, torch.full_like(s0, 40.0), times)
    series = series + 0.01 * torch.randn_like(series)  # keep |.| away from its kink at 0
    mask = torch.rand(1, 1, 3, 3) > 0.3
    t_ms = (30.0 + 30.0 * torch.rand(1, 1, 3, 3, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: relaxation_loss(series, times, t, mask),
                                    (t_ms,), eps=1e-6, atol=1e-7)
    log_scale = (0.1 * torch.randn(1, 1, 3, 3, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t, s: heteroscedastic_relaxation_loss(series, times, t, s, mask),
        (t_ms, log_scale), eps=1e-6, atol=1e-7)


def test_per_pixel_form_is_consistent_with_the_scalar_form():
    torch.manual_seed(2)
    series = torch.rand(2, 4, 5, 5, dtype=torch.float64)
    times = torch.tensor(TIMES["T1rho"], dtype=torch.float64)
    t_ms = 20.0 + 60.0 * torch.rand(2, 1, 5, 5, dtype=torch.float64)
    mask = torch.rand(2, 1, 5, 5) > 0.4
    residual = relaxation_residual(series, times, t_ms)
    assert relaxation_loss(series, times, t_ms, mask).item() == pytest.approx(
        residual[mask].mean().item(), rel=1e-12)
    log_scale = 0.3 * torch.randn(2, 1, 5, 5, dtype=torch.float64)
    sigma = 1e-3 + log_scale.exp()
    by_hand = (residual / sigma + torch.log(2 * sigma))[mask].mean().item()
    assert heteroscedastic_relaxation_loss(series, times, t_ms, log_scale, mask,
                                           min_sigma=1e-3).item() == pytest.approx(
        by_hand, rel=1e-12)
    assert heteroscedastic_relaxation_loss(series, times, t_ms, log_scale, mask).item() == \
        pytest.approx(laplace_nll(residual, log_scale, mask=mask).item(), rel=1e-12)


def _output(batch, heteroscedastic: bool) -> MappingOutput:
    shape = batch["mask"].shape
    maps = {"T1rho": torch.full(shape, 35.0), "T2": torch.full(shape, 30.0)}
    log_scales = ({"T1rho": torch.full(shape, -1.0), "T2": torch.full(shape, -2.0)}
                  if heteroscedastic else None)
    return MappingOutput(maps, log_scales)


@pytest.mark.parametrize("heteroscedastic", [False, True])
def test_t2_loss_scale_changes_only_the_t2_term(ideal_batch, heteroscedastic):
    output = _output(ideal_batch, heteroscedastic)
    plain = task_losses(output, ideal_batch, LossOptions())
    scaled = task_losses(output, ideal_batch, LossOptions(t2_loss_scale=100.0))
    assert scaled["T1rho"].item() == plain["T1rho"].item()
    assert scaled["T2"].item() != pytest.approx(plain["T2"].item(), rel=1e-3)
    if not heteroscedastic:
        assert scaled["T2"].item() == pytest.approx(100.0 * plain["T2"].item(), rel=1e-5)
    else:  # the residual is scaled inside the Laplace NLL: r/σ grows 100-fold
        mask = ideal_batch["mask"] > 0
        residual = relaxation_residual(ideal_batch["series"]["T2"], ideal_batch["times"]["T2"],
                                       output.maps["T2"])
        expected = laplace_nll(100.0 * residual, output.log_scales["T2"], mask=mask)
        assert scaled["T2"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_supervised_label_modes_combine_convexly():
    pred = torch.full((1, 1, 4, 4), 50.0, requires_grad=True)
    gt = torch.full((1, 1, 4, 4), 40.0)   # |error| 10 ms
    mle = torch.full((1, 1, 4, 4), 80.0)  # |error| 30 ms
    mask = torch.ones(1, 1, 4, 4)
    l_gt = supervised_loss(pred, gt, mle, mask, "gt", scale_ms=1.0).item()
    l_mle = supervised_loss(pred, gt, mle, mask, "mle", scale_ms=1.0).item()
    assert (l_gt, l_mle) == (pytest.approx(10.0), pytest.approx(30.0))
    for alpha in (0.0, 0.25, 1.0):
        hybrid = supervised_loss(pred, gt, mle, mask, "hybrid", alpha, scale_ms=1.0).item()
        assert hybrid == pytest.approx(alpha * 30.0 + (1 - alpha) * 10.0)
    assert supervised_loss(pred, gt, mle, mask, "gt", scale_ms=100.0).item() == \
        pytest.approx(0.1)


def test_supervised_loss_skips_masked_and_unknown_labels():
    pred = torch.full((1, 1, 2, 2), 50.0)
    gt = torch.tensor([[[[40.0, math.nan], [1000.0, 45.0]]]])
    mask = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]]]])
    # counted: (0,0) error 10 and (1,1) error 5; NaN and the masked 1000 ms are skipped
    assert supervised_loss(pred, gt, None, mask, "gt", scale_ms=1.0).item() == \
        pytest.approx(7.5)
    with pytest.raises(ValueError, match="needs mle labels"):
        supervised_loss(pred, gt, None, mask, "mle")
    with pytest.raises(ValueError, match="no pixel"):
        supervised_loss(pred, torch.full_like(gt, math.nan), None, mask, "gt")


def test_task_losses_supervised_uses_batch_labels(ideal_batch):
    output = _output(ideal_batch, heteroscedastic=False)
    losses = task_losses(output, ideal_batch, LossOptions(kind="supervised", label_scale_ms=1))
    mask = (ideal_batch["mask"] > 0) & torch.isfinite(ideal_batch["gt"]["T1rho"])
    expected = (35.0 - ideal_batch["gt"]["T1rho"][mask]).abs().mean().item()
    assert losses["T1rho"].item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="no pixel"):  # MLE labels were not computed
        task_losses(output, ideal_batch, LossOptions(kind="supervised", label_mode="mle"))
    with pytest.raises(ValueError, match="HETEU"):
        task_losses(_output(ideal_batch, True), ideal_batch, LossOptions(kind="supervised"))


def test_loss_options_are_checked():
    with pytest.raises(ValueError, match="label mode"):
        LossOptions(label_mode="labels")
    with pytest.raises(ValueError, match="alpha"):
        LossOptions(hybrid_alpha=1.5)
    with pytest.raises(ValueError, match="loss kind"):
        LossOptions(kind="unsupervised")
