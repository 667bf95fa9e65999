"""Method registry (what the module offers) and the chunked fit (progress and cancel)."""

from __future__ import annotations

import types

import numpy as np
import pytest

from QMRIMappingLib import mapping, methods
from QMRIMappingLib.chunked_fit import ChunkedFit
from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.mapping import compute_maps
from QMRIMappingLib.mapping_input import MappingInput, WeightedImage

from .mrml_fixtures import oblique_geometry


@pytest.fixture
def small_input() -> MappingInput:
    geometry = oblique_geometry((16, 12, 2))
    rng = np.random.default_rng(3)
    t1rho = rng.uniform(30, 50, geometry.array_shape)
    t2 = rng.uniform(25, 40, geometry.array_shape)
    images = [WeightedImage((800 * np.exp(-t / t1rho)).astype(np.float32) + 1, t,
                            "shared" if t == 0 else "t1rho", f"TSL{t:g}", geometry)
              for t in (0.0, 10.0, 30.0, 50.0)]
    images += [WeightedImage((800 * np.exp(-t / t2)).astype(np.float32) + 1, t, "t2",
                             f"TP{t:g}", geometry) for t in (18.2, 34.6, 51.0)]
    return MappingInput(images=images, kind="prepared", source="test")


def test_methods_list_network_as_unavailable_with_a_reason(monkeypatch):
    monkeypatch.setattr(mapping, "available_models", lambda: [])  # no model installed
    found = {info.name: info for info in methods.available_methods()}
    assert found["nlls"].available and found["two-point"].available
    assert not found["network"].available and found["network"].reason
    assert found["network"].needs_model
    with pytest.raises(UserInputError, match="cannot run"):
        methods.method_info("network")
    with pytest.raises(UserInputError, match="unknown"):
        methods.method_info("magic")


def test_network_becomes_available_when_the_core_provides_models(monkeypatch):
    monkeypatch.setattr(mapping, "METHODS", (*mapping.METHODS, "network"), raising=False)
    monkeypatch.setattr(mapping, "available_models",
                        lambda: ["homou", {"name": "heteu", "label": "HETEU"},
                                 types.SimpleNamespace(name="stsm")], raising=False)
    assert [m.name for m in methods.available_models()] == ["homou", "heteu", "stsm"]
    assert methods.available_models()[1].label == "HETEU"
    assert methods.method_info("network").available


def test_cuda_status_explains_itself():
    available, message = methods.cuda_status()
    assert isinstance(available, bool) and message
    if not available:
        assert "CPU" in message or "GPU" in message


@pytest.mark.parametrize("method", ["nlls", "two-point"])
def test_chunked_fit_equals_one_call(small_input, method):
    mask = np.ones(small_input.geometry.array_shape, bool)
    mask[0, :3] = False
    whole = compute_maps(small_input, method, mask=mask)
    fitter = ChunkedFit(small_input, method, mask=mask, chunk_voxels=50)
    progress = list(fitter.steps())
    assert progress[-1] == (fitter.total, fitter.total) and fitter.total > 3
    for name, outcome in whole.items():
        for field in ("t_ms", "s0", "sd_ms", "r2", "status"):
            assert np.allclose(getattr(fitter.outcomes[name].result, field),
                               getattr(outcome.result, field), equal_nan=True, rtol=1e-5), field


def test_stopping_early_leaves_no_outcome(small_input):
    fitter = ChunkedFit(small_input, "nlls", chunk_voxels=100)
    steps = fitter.steps()
    next(steps)
    steps.close()
    assert fitter.outcomes is None


def test_the_core_offers_the_network_method_with_the_shipped_models(small_input):
    assert "network" in mapping.METHODS
    names = [m.name for m in methods.available_models()]
    if not names:
        pytest.skip("no shipped models installed (run 'make models')")
    assert names[0] == "homou"
    assert methods.method_info("network").available
    outcomes = methods.run_method(small_input, "network", mask=None, model="homou")
    assert set(outcomes) == {"T1rho", "T2"}
    for name, outcome in outcomes.items():
        assert outcome.result.t_ms.shape == small_input.geometry.array_shape
        assert np.isfinite(outcome.result.t_ms).all(), name
        assert outcome.times_ms == [0.0, 30.0 if name == "T1rho" else 34.6]
    fitter = ChunkedFit(small_input, "network", model="homou", chunk_voxels=10)
    assert fitter.total == 1  # a network runs in one part
    chunked = fitter.run()
    np.testing.assert_allclose(chunked["T2"].result.t_ms, outcomes["T2"].result.t_ms)
    with pytest.raises(UserInputError, match="needs a model"):
        methods.run_method(small_input, "network")
