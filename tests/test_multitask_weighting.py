"""Loss weighting strategies and the Laplace/Gaussian likelihoods against their equations."""

from __future__ import annotations

import math

import pytest
import torch

from MultiTaskLib.laplace import (
    gaussian_nll,
    laplace_nll,
    log_scale_for_sigma,
    sigma_from_log_scale,
)
from MultiTaskLib.weighting import (
    DynamicWeightAverage,
    FixedWeighting,
    UncertaintyWeighting,
    make_weighting,
    manual_pair,
)


def scalars(**values: float) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(value, dtype=torch.float64) for name, value in values.items()}


# --- likelihoods -------------------------------------------------------------------------

def test_laplace_nll_elementwise_formula():
    residual = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64)
    log_scale = torch.tensor([0.0, -1.0, 1.0], dtype=torch.float64)
    sigma = 0.01 + torch.exp(log_scale)
    expected = residual.abs() / sigma + torch.log(2 * sigma)
    got = laplace_nll(residual, log_scale, min_sigma=0.01, reduction="none")
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(laplace_nll(residual, log_scale, 0.01), expected.mean())


def test_gaussian_nll_elementwise_formula():
    residual = torch.tensor([-2.0, 0.5], dtype=torch.float64)
    log_scale = torch.tensor([0.3, -0.7], dtype=torch.float64)
    sigma = torch.exp(log_scale)
    expected = residual**2 / (2 * sigma**2) + torch.log(sigma)
    torch.testing.assert_close(gaussian_nll(residual, log_scale, 0.0, reduction="none"), expected)
    full = gaussian_nll(residual, log_scale, 0.0, reduction="none", full=True)
    torch.testing.assert_close(full, expected + 0.5 * math.log(2 * math.pi))


def test_homoscedastic_scalar_log_scale_broadcasts():
    residual = torch.randn(2, 5, 5, dtype=torch.float64)
    per_pixel = laplace_nll(residual, torch.full_like(residual, 0.4), 1e-3)
    scalar = laplace_nll(residual, torch.tensor(0.4, dtype=torch.float64), 1e-3)
    torch.testing.assert_close(per_pixel, scalar)


@pytest.mark.parametrize("nll", [laplace_nll, gaussian_nll])
def test_gradients_match_finite_differences(nll):
    generator = torch.Generator().manual_seed(0)
    # Keep residuals away from 0, where |r| has a kink that finite differences straddle.
    magnitude = 0.2 + torch.rand(3, 4, 4, generator=generator, dtype=torch.float64)
    sign = torch.where(torch.rand(3, 4, 4, generator=generator) < 0.5, -1.0, 1.0)
    residual = (magnitude * sign.double()).requires_grad_()
    log_map = (0.5 * torch.randn(3, 4, 4, generator=generator, dtype=torch.float64)
               ).requires_grad_()
    mask = torch.rand(3, 4, 4, generator=generator) < 0.7
    assert torch.autograd.gradcheck(lambda r, s: nll(r, s, 0.05, mask=mask), (residual, log_map))
    assert torch.autograd.gradcheck(lambda r, s: nll(r, s, 0.05, reduction="none"),
                                    (residual, log_map))
    log_scalar = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda r, s: nll(r, s, 0.05), (residual, log_scalar))


def test_mask_excludes_nan_from_loss_and_gradient():
    prediction = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    reference = torch.tensor([1.5, float("nan"), 2.0])
    log_scale = torch.zeros(3, requires_grad=True)
    mask = torch.isfinite(reference)
    loss = laplace_nll(prediction - reference, log_scale, 1e-3, mask=mask)
    loss.backward()
    sigma = 1e-3 + 1.0
    expected = ((0.5 / sigma + math.log(2 * sigma)) + (1.0 / sigma + math.log(2 * sigma))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert torch.isfinite(prediction.grad).all() and prediction.grad[1] == 0
    assert torch.isfinite(log_scale.grad).all() and log_scale.grad[1] == 0


def test_empty_mask_gives_zero_not_nan():
    residual = torch.ones(4, requires_grad=True)
    loss = laplace_nll(residual, torch.zeros(()), 1e-3, mask=torch.zeros(4, dtype=torch.bool))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(residual.grad, torch.zeros(4))


def test_sigma_floor_is_respected():
    sigma = sigma_from_log_scale(torch.tensor([-200.0, 0.0, 3.0]), min_sigma=0.25)
    assert sigma[0].item() == 0.25
    assert torch.all(sigma >= 0.25)
    assert sigma_from_log_scale(torch.tensor(log_scale_for_sigma(2.0, 0.25)), 0.25).item() == \
        pytest.approx(2.0)
    # A perfect task (loss 0) pushes σ down as far as it can go: it must stop at the floor.
    weighting = UncertaintyWeighting(["a"], min_sigma=0.25)
    optimiser = torch.optim.Adam(weighting.parameters(), lr=0.5)
    for _ in range(300):
        optimiser.zero_grad()
        total = weighting({"a": torch.tensor(0.0)})
        total.backward()
        optimiser.step()
        assert weighting.sigma().item() >= 0.25
    assert weighting.sigma().item() < 0.26
    assert math.isfinite(total.item())
    with pytest.raises(ValueError, match="greater than min_sigma"):
        UncertaintyWeighting(["a"], init_sigma=0.1, min_sigma=0.25)


# --- fixed weighting ---------------------------------------------------------------------

def test_fixed_weighting_sums_weighted_losses():
    weighting = FixedWeighting({"t1rho": 0.3, "t2": 2.0})
    total = weighting(scalars(t1rho=4.0, t2=0.5))
    assert total.item() == pytest.approx(0.3 * 4.0 + 2.0 * 0.5)
    assert weighting.state() == {"t1rho": 0.3, "t2": 2.0}
    assert weighting.state_kind == "weight"
    assert list(weighting.parameters()) == []
    # A batch with labels for one task only.
    assert weighting(scalars(t2=0.5)).item() == pytest.approx(1.0)


def test_manual_pair_weights_sum_to_one():
    weighting = manual_pair(0.2, ["t1rho", "t2"])
    assert weighting(scalars(t1rho=10.0, t2=1.0)).item() == pytest.approx(0.2 * 10 + 0.8 * 1)
    assert sum(weighting.state().values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="lambda_a"):
        manual_pair(1.5, ["t1rho", "t2"])
    with pytest.raises(ValueError, match="two task names"):
        manual_pair(0.5, ["a", "b", "c"])


@pytest.mark.parametrize("weights", [{"a": -0.1, "b": 1.0}, {"a": math.nan, "b": 1.0},
                                     {"a": 0.0, "b": 0.0}])
def test_fixed_weighting_rejects_invalid_weights(weights):
    with pytest.raises(ValueError):
        FixedWeighting(weights)


def test_unknown_task_and_non_scalar_losses_are_rejected():
    weighting = FixedWeighting({"a": 1.0, "b": 1.0})
    with pytest.raises(ValueError, match="unknown task 'c'"):
        weighting(scalars(a=1.0, c=2.0))
    with pytest.raises(ValueError, match="scalar"):
        weighting({"a": torch.ones(3)})
    with pytest.raises(ValueError, match="no task loss"):
        weighting({})


# --- uncertainty weighting ---------------------------------------------------------------

def test_uncertainty_weighting_starts_at_sigma_one_and_follows_equations():
    laplace = UncertaintyWeighting(["t1rho", "t2"], likelihood="laplace", min_sigma=1e-3)
    for value in laplace.state().values():
        assert value == pytest.approx(1.0, abs=1e-6)
    assert laplace.state_kind == "sigma"
    with torch.no_grad():
        laplace.log_scale.copy_(torch.tensor([math.log(0.5 - 1e-3), math.log(3.0 - 1e-3)]))
    expected = 2.0 / 0.5 + math.log(2 * 0.5) + 6.0 / 3.0 + math.log(2 * 3.0)
    assert laplace(scalars(t1rho=2.0, t2=6.0)).item() == pytest.approx(expected, rel=1e-5)

    gaussian = UncertaintyWeighting(["t1rho", "t2"], likelihood="gaussian", min_sigma=0.0)
    with torch.no_grad():
        gaussian.log_scale.copy_(torch.tensor([math.log(0.5), math.log(3.0)]))
    expected = 2.0 / (2 * 0.25) + math.log(0.5) + 6.0 / (2 * 9.0) + math.log(3.0)
    assert gaussian(scalars(t1rho=2.0, t2=6.0)).item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="likelihood"):
        UncertaintyWeighting(["a"], likelihood="cauchy")


def fit_two_regressions(likelihood: str) -> tuple[dict[str, float], dict[str, float]]:
    """Linear model, two regression targets, the second 10x noisier; returns σ and errors."""
    generator = torch.Generator().manual_seed(3)
    inputs = torch.randn(256, 4, generator=generator)
    weights = torch.randn(4, 2, generator=generator)
    noise = torch.randn(256, 2, generator=generator) * torch.tensor([0.1, 1.0])
    targets = inputs @ weights + noise
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    weighting = UncertaintyWeighting(["clean", "noisy"], likelihood=likelihood)
    optimiser = torch.optim.Adam([*model.parameters(), *weighting.parameters()], lr=0.05)

    def task_losses():
        error = model(inputs) - targets
        per_task = error.abs().mean(0) if likelihood == "laplace" else error.square().mean(0)
        return {"clean": per_task[0], "noisy": per_task[1]}

    for _ in range(200):
        optimiser.zero_grad()
        weighting(task_losses()).backward()
        optimiser.step()
    with torch.no_grad():
        errors = {name: value.item() for name, value in task_losses().items()}
    return weighting.state(), errors


def test_uncertainty_learns_larger_sigma_for_noisier_task_laplace():
    sigma, mae = fit_two_regressions("laplace")
    assert sigma["noisy"] > 5 * sigma["clean"]
    assert sigma["clean"] < 1.0 and sigma["noisy"] < 1.0  # both moved down from σ = 1
    # At the optimum of L/σ + log 2σ, σ equals the task's mean absolute error.
    for task in sigma:
        assert sigma[task] == pytest.approx(mae[task], rel=0.05)


def test_uncertainty_learns_larger_sigma_for_noisier_task_gaussian():
    sigma, mse = fit_two_regressions("gaussian")
    assert sigma["noisy"] > 5 * sigma["clean"]
    for task in sigma:  # optimum of L/(2σ²) + log σ: σ² equals the mean squared error
        assert sigma[task] ** 2 == pytest.approx(mse[task], rel=0.05)


# --- dynamic weight average --------------------------------------------------------------

def test_dwa_follows_liu_et_al_on_hand_computed_sequence():
    dwa = DynamicWeightAverage(["a", "b"], temperature=2.0)
    assert dwa.state() == {"a": 1.0, "b": 1.0}
    dwa.epoch_end({"a": 1.0, "b": 2.0})
    assert dwa.state() == {"a": 1.0, "b": 1.0}  # epoch 2 still equal
    dwa.epoch_end({"a": 0.5, "b": 1.8})
    # w = L(t-1)/L(t-2) = (0.5, 0.9); λ = K·softmax(w / T)
    ea, eb = math.exp(0.5 / 2), math.exp(0.9 / 2)
    expected = {"a": 2 * ea / (ea + eb), "b": 2 * eb / (ea + eb)}
    for task in expected:
        assert dwa.state()[task] == pytest.approx(expected[task], rel=1e-12)
    total = dwa(scalars(a=3.0, b=5.0)).item()
    assert total == pytest.approx(expected["a"] * 3.0 + expected["b"] * 5.0, rel=1e-12)
    dwa.epoch_end({"a": 0.4, "b": 0.9})
    ea, eb = math.exp((0.4 / 0.5) / 2), math.exp((0.9 / 1.8) / 2)
    assert dwa.state()["a"] == pytest.approx(2 * ea / (ea + eb), rel=1e-12)
    assert sum(dwa.state().values()) == pytest.approx(2.0)
    # The slower-falling task (a: 0.8 of its previous loss) gets more weight than b (0.5).
    assert dwa.state()["a"] > dwa.state()["b"]


def test_dwa_state_survives_state_dict_round_trip():
    dwa = DynamicWeightAverage(["a", "b", "c"], temperature=1.0)
    for losses in ({"a": 1, "b": 1, "c": 1}, {"a": 0.5, "b": 0.9, "c": 1.2}):
        dwa.epoch_end(losses)
    copy = DynamicWeightAverage(["a", "b", "c"], temperature=1.0)
    copy.load_state_dict(dwa.state_dict())
    assert copy.state() == dwa.state()
    dwa.epoch_end({"a": 0.1, "b": 0.2, "c": 0.3})
    copy.epoch_end({"a": 0.1, "b": 0.2, "c": 0.3})
    assert copy.state() == dwa.state()
    with pytest.raises(ValueError, match="missing 'c'"):
        dwa.epoch_end({"a": 1.0, "b": 1.0})


# --- factory -----------------------------------------------------------------------------

def test_make_weighting_builds_each_strategy():
    assert isinstance(make_weighting("fixed", ["a", "b"]), FixedWeighting)
    assert make_weighting("fixed", ["a", "b"]).state() == {"a": 0.5, "b": 0.5}
    assert make_weighting("manual", ["a", "b"], lambda_a=0.7).state()["b"] == pytest.approx(0.3)
    uw = make_weighting("Uncertainty", ["a", "b"], likelihood="gaussian", min_sigma=0.01)
    assert isinstance(uw, UncertaintyWeighting) and uw.likelihood == "gaussian"
    dwa = make_weighting("dwa", ["a", "b"], temperature=3.0)
    assert isinstance(dwa, DynamicWeightAverage) and dwa.temperature == 3.0
    with pytest.raises(ValueError, match="unknown loss weighting 'gradnorm'"):
        make_weighting("gradnorm", ["a"])
    with pytest.raises(ValueError, match="unknown option 'temprature'"):
        make_weighting("dwa", ["a"], temprature=2.0)
    with pytest.raises(ValueError, match="unique"):
        make_weighting("uncertainty", ["a", "a"])
