"""Fine-tuning strategies: independent leaves the encoder alone, alternating respects its
ratio, joint uses MultiTaskLib's weightings; pretraining and separate models train."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from MultiTaskLib.weighting import DynamicWeightAverage, FixedWeighting, UncertaintyWeighting
from UMSRepLib.errors import UserInputError
from UMSRepLib.noise import NoiseModel
from UMSRepLib.training import strategies
from UMSRepLib.training.baseline import train_separate
from UMSRepLib.training.pretrain import pretrain
from UMSRepLib.training.schedules import Alternating, Joint, Sequential, ratio_pattern
from UMSRepLib.training.strategies import FinetuneOptions, finetune

from .umsrep_fixtures import synthetic_slices, tiny_config, tiny_spec


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    slices = synthetic_slices(24)
    model, record = pretrain(slices, synthetic_slices(8, seed=1, split="val"), tiny_spec(),
                             NoiseModel(), tiny_config(2), tmp_path_factory.mktemp("pre"))
    return model, record, slices


def encoder_state(model):
    return {k: v.clone() for k, v in model.encoder.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_pretraining_records_time_and_trains_the_denoiser(pretrained):
    model, record, _ = pretrained
    assert record.kind == "pretrain" and record.tasks == ["denoise"]
    assert record.seconds > 0 and record.epochs == 2
    assert record.trainable_parameters == sum(p.numel() for p in model.parameters())
    assert list(model.heads) == ["denoise"]


def test_independent_strategy_leaves_the_encoder_unchanged(pretrained, tmp_path):
    base, _, slices = pretrained
    model = copy.deepcopy(base)
    before = encoder_state(model)
    heads_before = {k: v.clone() for k, v in model.heads["denoise"].state_dict().items()}
    tuned, records = finetune(model, slices, None,
                              FinetuneOptions("independent", ["liver", "quality"]),
                              tiny_spec(), NoiseModel(), tiny_config(2), tmp_path)
    assert same(before, encoder_state(tuned))
    assert same(heads_before, tuned.heads["denoise"].state_dict())
    assert set(tuned.heads) == {"denoise", "liver", "quality"}
    # one run (own optimiser) per head, training only that head's parameters
    assert [r.tasks for r in records] == [["liver"], ["quality"]]
    head_sizes = [sum(p.numel() for p in tuned.heads[t].parameters()) for t in ("liver",
                                                                                 "quality")]
    assert [r.trainable_parameters for r in records] == head_sizes


def test_alternating_and_joint_update_the_encoder(pretrained, tmp_path):
    base, _, slices = pretrained
    for options in (FinetuneOptions("alternating", ["liver", "quality"],
                                    ratio={"liver": 2, "quality": 1}),
                    FinetuneOptions("joint", ["liver", "quality"], weighting="uncertainty")):
        model = copy.deepcopy(base)
        before = encoder_state(model)
        tuned, records = finetune(model, slices, None, options, tiny_spec(), NoiseModel(),
                                  tiny_config(1), tmp_path / options.strategy)
        assert not same(before, encoder_state(tuned)), options.strategy
        assert set(tuned.heads) == {"liver", "quality"}  # the stale denoiser is dropped
        assert records[0].kind == options.strategy


def loader(count: int, batch: int = 1) -> DataLoader:
    return DataLoader(TensorDataset(torch.arange(count)), batch_size=batch, shuffle=True,
                      generator=torch.Generator())


def test_alternating_schedule_respects_the_ratio():
    assert ratio_pattern({"liver": 2, "quality": 1}) == ["liver", "quality", "liver"]
    schedule = Alternating({"liver": loader(10), "quality": loader(3)},
                           {"liver": 2, "quality": 1})
    seen = [next(iter(batch)) for batch in schedule]
    assert len(seen) == len(schedule) == 15
    assert seen.count("liver") == 10 and seen.count("quality") == 5
    for start in range(0, 15, 3):  # every cycle holds two liver batches and one quality
        assert sorted(seen[start:start + 3]) == ["liver", "liver", "quality"]
    # a task with more batches per cycle than data is cycled, never starved
    schedule = Alternating({"a": loader(2), "b": loader(12)}, {"a": 3, "b": 1})
    seen = [next(iter(batch)) for batch in schedule]
    assert seen.count("a") == 3 * seen.count("b")


def test_joint_and_sequential_schedules():
    joint = list(Joint({"a": loader(4), "b": loader(2)}))
    assert len(joint) == 4 and all(set(batch) == {"a", "b"} for batch in joint)
    sequential = [next(iter(b)) for b in Sequential({"a": loader(3), "b": loader(2)})]
    assert sequential == ["a", "a", "a", "b", "b"]


def test_schedule_order_depends_on_the_epoch_seed_only():
    first = Alternating({"a": loader(6), "b": loader(6)}, {"a": 1, "b": 1})
    first.generator.manual_seed(42)
    order = [int(next(iter(b.values()))[0]) for b in first]
    first.generator.manual_seed(42)
    assert [int(next(iter(b.values()))[0]) for b in first] == order


@pytest.mark.parametrize("name, kind", [("fixed", FixedWeighting),
                                        ("uncertainty", UncertaintyWeighting),
                                        ("dwa", DynamicWeightAverage)])
def test_joint_weights_come_from_multitasklib(pretrained, tmp_path, monkeypatch, name, kind):
    base, _, slices = pretrained
    made = []
    original = strategies.make_weighting

    def spy(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(strategies, "make_weighting", spy)
    options = FinetuneOptions("joint", ["liver", "quality"], weighting=name)
    _, records = finetune(copy.deepcopy(base), slices, None, options, tiny_spec(), NoiseModel(),
                          tiny_config(3), tmp_path)
    assert len(made) == 1 and isinstance(made[0], kind)
    state = records[0].weighting
    assert set(state) == {"liver", "quality"}
    if name == "uncertainty":
        assert state != {"liver": 1.0, "quality": 1.0}  # σ learned with the network
    if name == "dwa":
        assert int(made[0].epochs_seen) == 3 and state != {"liver": 1.0, "quality": 1.0}
    if name == "fixed":
        assert state == {"liver": 0.5, "quality": 0.5}


def test_separate_model_trains_a_fresh_encoder(pretrained, tmp_path):
    base, _, slices = pretrained
    model, record = train_separate(slices.task("quality"), slices, None, tiny_spec(),
                                   NoiseModel(), tiny_config(1), tmp_path)
    assert record.kind == "separate" and record.tasks == ["quality"]
    assert model.encoder is not base.encoder
    assert record.trainable_parameters == sum(p.numel() for p in model.parameters())


def test_bad_options_are_one_line_errors():
    with pytest.raises(UserInputError, match="strategy must be one of"):
        FinetuneOptions("sequential", ["liver"])
    with pytest.raises(UserInputError, match="ratio"):
        FinetuneOptions("alternating", ["liver", "quality"], ratio={"liver": 2})
    with pytest.raises(UserInputError, match="integer >= 1"):
        ratio_pattern({"liver": 0})


def test_noise_model_corruptions_and_options():
    import numpy as np

    image = np.zeros((32, 32), np.float32)
    image[10:22, 10:22] = 1.0
    rng = np.random.default_rng(0)
    plain = NoiseModel(poisson_probability=0.0)
    noisy = plain.corrupt(image, rng)
    assert noisy.dtype == np.float32 and 0.02 < float((noisy - image).std()) < 0.3
    ghosts = NoiseModel(gaussian_sigmas=(1e-6,), poisson_probability=0.0, motion_probability=1.0)
    assert float(np.abs(ghosts.corrupt(image, rng)[:8]).sum()) > 1.0  # signal ghosted outside
    assert NoiseModel.from_dict(plain.to_dict()) == plain
    with pytest.raises(UserInputError, match="unknown noise option"):
        NoiseModel.from_dict({"sigma": 0.1})
    with pytest.raises(UserInputError, match="motion_probability"):
        NoiseModel(motion_probability=2.0)
