"""Tests of network inference (QMRIMappingLib.networks.inference.predict_maps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.networks import build_model, default_config, predict_maps
from QMRIMappingLib.phantom import generate_subject


@pytest.fixture(scope="module")
def subject():
    return generate_subject(41, matrix=64, n_slices=3)


def _model(name: str = "baseline", task: str | None = None):
    torch.manual_seed(0)
    return build_model(default_config(name, task))


def _arrays(subject, tsl: float, tp: float):
    images = {(im.role, im.time_ms): im.data for im in subject.images}
    return [images[("shared", 0.0)], images[("t1rho", tsl)], images[("t2", tp)]]


def test_predict_from_mapping_input_uses_the_named_images(subject):
    model = _model("heteu")
    model.train()
    result = predict_maps(model, subject.mapping_input(), 30.0, 34.6, device="cpu")
    assert model.training  # the caller's mode is restored
    assert result["T1rho"].shape == result["T2"].shape == (3, 64, 64)
    assert result["T1rho"].dtype == np.float32
    mask = result["mask"]
    assert mask.any() and not mask.all()
    for name in ("T1rho", "T2", "T1rho_scale", "T2_scale"):
        assert np.isnan(result[name][~mask]).all(), name
        assert np.isfinite(result[name][mask]).all(), name
    assert (result["T2_scale"][mask] > 0).all()
    assert len(result["used_images"]) == 3
    assert result["used_images"][1].startswith("t1rho 30 ms: phantom:")
    assert result["used_images"][2].startswith("t2 34.6 ms: phantom:")
    assert result["input_times_ms"] == (30.0, 34.6) and result["device"] == "cpu"


def test_array_input_matches_mapping_input_and_batching(subject):
    model = _model()
    from_input = predict_maps(model, subject.mapping_input(), 10.0, 18.2, device="cpu")
    from_arrays = predict_maps(model, _arrays(subject, 10.0, 18.2), 10.0, 18.2,
                               device="cpu", batch_slices=1)
    for task in ("T1rho", "T2"):
        np.testing.assert_allclose(from_arrays[task], from_input[task], rtol=1e-5)
    assert "T1rho_scale" not in from_input
    assert from_arrays["used_images"][0] == "shared 0 ms: array input"


def test_maps_do_not_depend_on_the_intensity_scale(subject):
    model = _model()
    arrays = _arrays(subject, 50.0, 51.0)
    mask = subject.body_mask
    a = predict_maps(model, arrays, 50.0, 51.0, mask=mask, device="cpu")
    b = predict_maps(model, [1000.0 * x for x in arrays], 50.0, 51.0, mask=mask, device="cpu")
    np.testing.assert_allclose(a["T2"], b["T2"], rtol=1e-4)


def test_network_sees_normalised_images_and_scales_come_back_in_signal_units(subject):
    model = _model("heteu")
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    arrays = _arrays(subject, 30.0, 34.6)
    a = predict_maps(model, arrays, 30.0, 34.6, mask=subject.body_mask, device="cpu")
    shared = seen[0][:, 0].numpy()
    for plane in shared:  # the foreground's 99th percentile is the unit of intensity
        foreground = plane[plane > 0.05 * np.percentile(plane, 99)]
        assert np.percentile(foreground, 99) == pytest.approx(1.0, rel=1e-5)
    b = predict_maps(model, [1000.0 * x for x in arrays], 30.0, 34.6, mask=subject.body_mask,
                     device="cpu")
    body = subject.body_mask
    np.testing.assert_allclose(b["T1rho"][body], a["T1rho"][body], rtol=1e-4)
    np.testing.assert_allclose(b["T2_scale"][body], 1000.0 * a["T2_scale"][body], rtol=1e-4)


def test_two_dimensional_arrays_give_two_dimensional_maps(subject):
    arrays = [x[1] for x in _arrays(subject, 30.0, 34.6)]
    result = predict_maps(_model(), arrays, 30.0, 34.6, mask="none", device="cpu")
    assert result["T2"].shape == (64, 64) and result["mask"].all()
    assert np.isfinite(result["T2"]).all()


def test_stsm_needs_only_its_own_contrast(subject):
    shared, t1rho, _ = _arrays(subject, 30.0, 34.6)
    result = predict_maps(_model("stsm", "T1rho"), [shared, t1rho, None], 30.0, None,
                          device="cpu")
    assert list(k for k in result if k in ("T1rho", "T2")) == ["T1rho"]
    assert len(result["used_images"]) == 2
    with pytest.raises(UserInputError, match="needs the TSL"):
        predict_maps(_model("stsm", "T1rho"), [shared, t1rho, None], None, 34.6)
    with pytest.raises(UserInputError, match="t1rho image is missing"):
        predict_maps(_model("st", "T1rho"), [shared, None, t1rho], 30.0, 34.6)


def test_bad_requests_are_refused(subject):
    model = _model()
    with pytest.raises(UserInputError, match=r"TSL 80 ms is outside .*10-50"):
        predict_maps(model, subject.mapping_input(), 80.0, 34.6)
    with pytest.raises(UserInputError, match=r"no t2 image at 40 ms \(available: 18.2, "):
        predict_maps(model, subject.mapping_input(), 30.0, 40.0)
    with pytest.raises(UserInputError, match="mask shape"):
        predict_maps(model, subject.mapping_input(), 30.0, 34.6, mask=np.ones((2, 64, 64)))
    with pytest.raises(UserInputError, match="batch_slices"):
        predict_maps(model, subject.mapping_input(), 30.0, 34.6, batch_slices=0)
