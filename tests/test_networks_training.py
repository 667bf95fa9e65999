"""A few optimiser steps on a tiny phantom batch must lower the self-supervised loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from MultiTaskLib.loaders import make_loader
from MultiTaskLib.training import TrainConfig, Trainer
from MultiTaskLib.weighting import FixedWeighting, UncertaintyWeighting
from QMRIMappingLib.networks import (
    LossOptions,
    MappingSliceDataset,
    build_cohort,
    build_model,
    default_config,
    task_losses,
)
from QMRIMappingLib.networks.samples import samples_from_subject
from QMRIMappingLib.networks.step import mapping_step
from QMRIMappingLib.phantom import generate_subject


@pytest.fixture(scope="module")
def batch():
    subject = generate_subject(31, matrix=64, n_slices=2, snr=60.0)
    data = MappingSliceDataset(samples_from_subject(subject), train=False)
    return torch.utils.data.default_collate([data[0], data[4]])  # two slices, two pairs


def _weighting(name: str):
    if name == "homou":  # Huang et al.: learnable log-scales, initial σ = 1
        return UncertaintyWeighting(["T1rho", "T2"], likelihood="laplace", init_sigma=1.0)
    return FixedWeighting({"T1rho": 0.5, "T2": 0.5})


@pytest.mark.parametrize(("name", "task", "kind"), [
    ("baseline", None, "self_supervised"),
    ("homou", None, "self_supervised"),
    ("heteu", None, "self_supervised"),
    ("stsm", "T2", "self_supervised"),
    ("baseline", None, "supervised"),
])
def test_adam_steps_reduce_the_loss(batch, name, task, kind):
    torch.manual_seed(0)
    model = build_model(default_config(name, task))
    weighting = _weighting(name)
    if task is not None:
        weighting = FixedWeighting({task: 1.0})
    options = LossOptions(kind=kind)
    optimiser = torch.optim.Adam(list(model.parameters()) + list(weighting.parameters()),
                                 lr=5e-4)

    def loss() -> torch.Tensor:
        losses = task_losses(model(batch["inputs"], batch["input_times"]), batch, options)
        return weighting(losses)

    with torch.no_grad():
        before = loss().item()
    for _ in range(15):
        optimiser.zero_grad()
        total = loss()
        total.backward()
        optimiser.step()
    with torch.no_grad():
        after = loss().item()
    assert after < before - 0.05 * abs(before), (before, after)


def test_trainer_runs_the_mapping_step_with_uncertainty_weighting(tmp_path):
    cohort = build_cohort(2, 0, matrix=64, n_slices=1)
    config = TrainConfig(epochs=2, batch_size=2, device="cpu", progress=False, seed=3,
                         log_csv="log.csv")
    train = make_loader(MappingSliceDataset(cohort.samples), config, shuffle=True)
    val = make_loader(MappingSliceDataset(cohort.samples, train=False), config, shuffle=False)
    torch.manual_seed(0)
    model = build_model(default_config("homou"))
    weighting = UncertaintyWeighting(["T1rho", "T2"])
    result = Trainer(model, mapping_step(), weighting, config, tmp_path).fit(train, val)
    last = result.history[-1]
    assert last.split == "val" and set(last.losses) == {"T1rho", "T2"}
    assert 0 < last.metrics["rmae_T1rho"] < 200 and 0 < last.metrics["rmae_T2"] < 200
    assert set(weighting.state()) == {"T1rho", "T2"}
    assert (tmp_path / "log.csv").is_file()


def test_global_generator_draws_follow_numpy_seeding():
    cohort = build_cohort(1, 0, matrix=64, n_slices=2)
    data = MappingSliceDataset(cohort.samples * 4)  # seed=None: NumPy's global generator
    np.random.seed(7)
    first = [data[i]["input_times"].tolist() for i in range(8)]
    np.random.seed(7)
    assert first == [data[i]["input_times"].tolist() for i in range(8)]
    assert first != [data[i]["input_times"].tolist() for i in range(8)]
