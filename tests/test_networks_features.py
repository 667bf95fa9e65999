"""Two-point input features, the residual output, and the fused FiLM inference path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from QMRIMappingLib.evaluation.scoring import filtered_two_point_maps
from QMRIMappingLib.networks import build_model, default_config, predict_maps
from QMRIMappingLib.networks.features import (
    logit_of_time,
    smoothed_log_time,
    two_point_log_time,
)
from QMRIMappingLib.networks.heads import bounded_time
from QMRIMappingLib.phantom import generate_subject


def test_two_point_feature_is_exact_on_noise_free_decay():
    t_true = torch.tensor([[[[20.0, 45.0], [80.0, 300.0]]]])
    shared = torch.full_like(t_true, 2.0)
    weighted = shared * torch.exp(-30.0 / t_true)
    log_t = two_point_log_time(shared, weighted, torch.tensor([30.0]), 5.0, 2000.0)
    torch.testing.assert_close(torch.exp(log_t), t_true, rtol=1e-4, atol=1e-3)
    # no decay or no signal: clamped to the bounds, never NaN or infinite
    flat = two_point_log_time(shared, shared * 1.5, torch.tensor([30.0]), 5.0, 2000.0)
    assert torch.allclose(torch.exp(flat), torch.tensor(2000.0))
    dark = two_point_log_time(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2),
                              torch.tensor([30.0]), 5.0, 2000.0)
    assert torch.isfinite(dark).all()


def test_logit_of_time_inverts_the_bounded_head():
    t_ms = torch.tensor([6.0, 40.0, 300.0, 1900.0])
    raw = logit_of_time(torch.log(t_ms), 5.0, 2000.0)
    torch.testing.assert_close(bounded_time(raw, 5.0, 2000.0), t_ms, rtol=1e-4, atol=1e-3)


def test_weighted_smoothing_keeps_constant_maps_and_ignores_dark_pixels():
    log_t = torch.full((1, 1, 16, 16), 3.7)
    weight = torch.rand(1, 1, 16, 16) + 0.1
    torch.testing.assert_close(smoothed_log_time(log_t, weight, 1.5), log_t)
    log_t[..., 8:] = 6.0  # a dark structure (weight ~0) with a different value
    weight[..., 8:] = 1e-4
    smooth = smoothed_log_time(log_t, weight, 1.5)
    assert torch.allclose(smooth[..., :8], torch.tensor(3.7), atol=1e-3)


def test_an_untrained_residual_network_reproduces_the_filtered_two_point_map():
    subject = generate_subject(3, matrix=64, n_slices=1, snr=40)
    torch.manual_seed(0)
    network = build_model(default_config("homou", base_channels=4, levels=2,
                                         input_features="two_point", residual=True,
                                         residual_smoothing_px=1.0))
    images = {(im.role, im.time_ms): im.data for im in subject.images}
    arrays = [images[("shared", 0.0)], images[("t1rho", 30.0)], images[("t2", 34.6)]]
    mask = subject.body_mask.astype(bool)
    predicted = predict_maps(network, arrays, 30.0, 34.6, mask=mask, device="cpu")
    filtered = filtered_two_point_maps(subject.mapping_input(), mask, (30.0, 34.6), 1.0)
    for task in ("T1rho", "T2"):
        np.testing.assert_allclose(predicted[task], filtered[task], rtol=1e-3)


@pytest.mark.parametrize("norm", ["none", "group"])
def test_fused_film_equals_the_unfused_path(norm):
    torch.manual_seed(1)
    network = build_model(default_config("heteu", base_channels=4, levels=3, norm=norm))
    for block in network.modules():  # non-trivial FiLM so the fusion has work to do
        if hasattr(block, "linear") and block.linear.out_features % 2 == 0:
            torch.nn.init.normal_(block.linear.weight, std=0.3)
            torch.nn.init.normal_(block.linear.bias, std=0.3)
    network.eval()
    images = torch.rand(2, 3, 32, 32)
    same = torch.tensor([[30.0, 34.6], [30.0, 34.6]])  # shared times: fused path
    mixed = torch.tensor([[30.0, 34.6], [10.0, 18.2]])  # per-item times: unfused path
    with torch.no_grad():
        fused = network(images, same)
        unfused = network(images, mixed)
        alone = network(images[1:], same[1:])
    torch.testing.assert_close(fused.maps["T2"][:1], unfused.maps["T2"][:1], rtol=1e-4,
                               atol=1e-4)
    torch.testing.assert_close(fused.log_scales["T1rho"][1:], alone.log_scales["T1rho"],
                               rtol=1e-4, atol=1e-4)
    assert not torch.allclose(unfused.maps["T2"][1:], fused.maps["T2"][1:])
