"""Tests of the mapping networks, their configs and the factory (QMRIMappingLib.networks)."""

from __future__ import annotations

import json
import math
import time

import pytest
import torch

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.networks import (
    ARCHITECTURES,
    PAPER_PAIRS_MS,
    build_model,
    count_parameters,
    default_config,
    load_model,
    model_size_mb,
    save_model,
)
from QMRIMappingLib.networks.heads import bounded_time

SINGLE = ("stsm", "st")
VARIANTS = [(name, None) for name in ("baseline", "homou", "heteu")] + [
    (name, task) for name in SINGLE for task in ("T1rho", "T2")]


def _model(name: str, task: str | None = None, **options):
    torch.manual_seed(0)
    return build_model(default_config(name, task, **options)).eval()


def _times(batch: int, tsl: float = 30.0, tp: float = 34.6) -> torch.Tensor:
    return torch.tensor([[tsl, tp]] * batch)


@pytest.mark.parametrize(("name", "task"), VARIANTS)
def test_forward_shapes(name, task):
    model = _model(name, task)
    with torch.no_grad():
        output = model(torch.rand(1, 3, 128, 128), _times(1))
    expected_tasks = [task] if task else ["T1rho", "T2"]
    assert list(output.maps) == expected_tasks
    for value in output.maps.values():
        assert value.shape == (1, 1, 128, 128)
    assert (output.log_scales is not None) == (name == "heteu")
    if name == "heteu":
        assert all(v.shape == (1, 1, 128, 128) for v in output.log_scales.values())


def test_odd_sized_slices_keep_their_shape():
    with torch.no_grad():
        output = _model("baseline")(torch.rand(2, 3, 75, 61), _times(2))
    assert output.maps["T2"].shape == (2, 1, 75, 61)


@pytest.mark.parametrize("fill", [0.0, 1e8, -1e8])
def test_outputs_stay_inside_their_bounds_for_extreme_inputs(fill):
    model = _model("heteu")
    with torch.no_grad():  # large weights push the pre-activations far into saturation
        for parameter in model.decoder.head.parameters():
            parameter.mul_(1e3)
        images = torch.full((2, 3, 64, 64), fill)
        images[1] = torch.randn(3, 64, 64) * 1e6
        output = model(images, _times(2))
    config = model.config
    for task, value in output.maps.items():
        low, high = config["bounds_ms"][task]
        assert torch.isfinite(value).all()
        assert value.min() >= low and value.max() <= high
    low, high = config["log_scale_bounds"]
    for value in output.log_scales.values():
        assert value.min() >= low and value.max() <= high
    for value in output.scales().values():
        assert (value > 0).all()


def test_heteu_scale_maps_are_positive_on_ordinary_input():
    with torch.no_grad():
        output = _model("heteu")(torch.rand(1, 3, 64, 64), _times(1, 10.0, 18.2))
    assert set(output.scales()) == {"T1rho", "T2"}
    assert all((s > 0).all() for s in output.scales().values())
    assert _model("baseline")(torch.rand(1, 3, 64, 64), _times(1)).scales() is None


@pytest.mark.parametrize(("tsl", "tp", "message"), [
    (60.0, 34.6, r"TSL 60 ms is outside .* \(TSL 10-50 ms\)"),
    (5.0, 34.6, r"TSL 5 ms is outside .* \(TSL 10-50 ms\)"),
    (9.9, 34.6, r"TSL 9.9 ms is outside"),
    (30.0, 60.0, r"TP 60 ms is outside .* \(TP 18.2-51 ms\)"),
    (30.0, math.nan, r"TP nan ms is outside"),
])
def test_times_outside_the_trained_range_are_refused(tsl, tp, message):
    model = _model("baseline")
    with pytest.raises(UserInputError, match=message):
        model(torch.rand(2, 3, 32, 32), torch.tensor([[30.0, 34.6], [tsl, tp]]))


def test_times_inside_the_trained_range_are_accepted():
    model = _model("baseline")
    for tsl, tp in [*PAPER_PAIRS_MS, (20.0, 25.0), (50.0, 18.2), (10.0004, 51.0)]:
        model(torch.rand(1, 3, 32, 32), _times(1, tsl, tp))


def test_stsm_checks_only_its_own_time():
    model = _model("stsm", "T1rho")
    model(torch.rand(1, 3, 32, 32), _times(1, 30.0, 500.0))  # TP unused: not checked
    with pytest.raises(UserInputError, match="TSL 70 ms"):
        model(torch.rand(1, 3, 32, 32), _times(1, 70.0, 34.6))
    assert model.required_inputs == ("shared", "t1rho")
    assert _model("st", "T2").required_inputs == ("shared", "t1rho", "t2")


def test_stsm_ignores_the_other_contrast():
    model = _model("stsm", "T2")
    images = torch.rand(1, 3, 32, 32)
    changed = images.clone()
    changed[:, 1] = torch.rand(32, 32)  # the T1rho-weighted channel
    with torch.no_grad():
        a = model(images, _times(1)).maps["T2"]
        b = model(changed, _times(1, 10.0, 34.6)).maps["T2"]
    assert torch.equal(a, b)


def test_time_conditioning_changes_the_output():
    model = _model("baseline")
    with torch.no_grad():  # FiLM starts as the identity; give it a non-zero response
        for module in model.modules():
            if module.__class__.__name__ == "FiLM":
                module.linear.weight.normal_(0.0, 0.1)
        images = torch.rand(1, 3, 32, 32)
        a = model(images, _times(1, 10.0, 18.2)).maps["T1rho"]
        b = model(images, _times(1, 50.0, 51.0)).maps["T1rho"]
    assert not torch.allclose(a, b)


@pytest.mark.parametrize(("name", "task"), VARIANTS)
def test_build_model_round_trip(name, task, tmp_path):
    config = json.loads(json.dumps(default_config(name, task)))
    model = _model(name, task)
    rebuilt = build_model(config)
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    path = save_model(model, tmp_path / "weights.pt")
    loaded = load_model(path)
    assert loaded.config == model.config
    images = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        reference = model(images, _times(1)).maps
        for other in (rebuilt.eval(), loaded):
            for key, value in other(images, _times(1)).maps.items():
                assert torch.equal(value, reference[key])


def test_weights_of_another_config_do_not_load():
    model = _model("baseline")
    with pytest.raises(RuntimeError):
        build_model(default_config("baseline", levels=3)).load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError):
        build_model(default_config("heteu")).load_state_dict(model.state_dict())


def test_load_model_refuses_foreign_files(tmp_path):
    path = tmp_path / "not_weights.pt"
    torch.save({"weights": 1}, path)
    with pytest.raises(UserInputError, match="save_model"):
        load_model(path)
    with pytest.raises(UserInputError, match="not found"):
        load_model(tmp_path / "missing.pt")


def test_config_validation():
    with pytest.raises(UserInputError, match="unknown architecture"):
        build_model({**default_config(), "architecture": "resnet"})
    with pytest.raises(UserInputError, match="give task"):
        default_config("stsm")
    with pytest.raises(UserInputError, match="do not give a task"):
        default_config("heteu", "T2")
    with pytest.raises(UserInputError, match="bounds_ms"):
        build_model({**default_config(), "bounds_ms": {"T1rho": [0, 100], "T2": [5, 100]}})
    with pytest.raises(UserInputError, match="trained_pairs_ms"):
        build_model({**default_config(), "trained_pairs_ms": []})
    assert set(ARCHITECTURES) == {"baseline", "homou", "heteu", "stsm", "st"}


def test_default_sizes_and_cpu_forward_time(capsys):
    """Report parameters, float32 size and the CPU time of one 256x256 slice (not asserted)."""
    lines = []
    for name, task in [("baseline", None), ("homou", None), ("heteu", None),
                       ("stsm", "T1rho"), ("st", "T1rho")]:
        model = _model(name, task)
        params, size = count_parameters(model), model_size_mb(model)
        assert size < 10.0
        images, times = torch.rand(1, 3, 256, 256), _times(1)
        with torch.inference_mode():
            model(images, times)  # warm-up
            start = time.perf_counter()
            for _ in range(3):
                model(images, times)
            seconds = (time.perf_counter() - start) / 3
        lines.append(f"{name:8s} params {params:8d}  {size:5.2f} MB  "
                     f"256x256 CPU forward {1000 * seconds:6.1f} ms "
                     f"({torch.get_num_threads()} threads)")
    with capsys.disabled():
        print("\nnetwork sizes (default configs):\n  " + "\n  ".join(lines))


def test_time_head_is_log_uniform_between_the_bounds():
    raw = torch.tensor([-50.0, -1.0, 0.0, 1.0, 50.0])
    t_ms = bounded_time(raw, 5.0, 2000.0)
    assert t_ms[2].item() == pytest.approx(100.0, rel=1e-6)  # geometric mean at z = 0
    assert t_ms[0].item() == pytest.approx(5.0) and t_ms[-1].item() == pytest.approx(2000.0)
    assert (t_ms[1] * t_ms[3]).item() == pytest.approx(100.0 ** 2, rel=1e-5)  # symmetric in log
    assert torch.all(t_ms[1:] > t_ms[:-1])
