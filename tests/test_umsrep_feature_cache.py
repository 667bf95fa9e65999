"""Independent fine-tuning on stored encoder features gives the heads exactly what the
encoder would, and the classifier's pooling and normalisation behave as documented."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from UMSRepLib.data.datasets import task_dataset
from UMSRepLib.errors import UserInputError
from UMSRepLib.networks import build_encoder, build_head
from UMSRepLib.networks.classifier import ClassificationHead
from UMSRepLib.noise import NoiseModel
from UMSRepLib.training.feature_cache import HeadsOnFeatures, encode_dataset, encoded_loader
from UMSRepLib.training.pretrain import pretrain
from UMSRepLib.training.strategies import FinetuneOptions, finetune

from .umsrep_fixtures import synthetic_slices, tiny_config, tiny_spec


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    slices = synthetic_slices(24)
    model, _ = pretrain(slices, None, tiny_spec(), NoiseModel(), tiny_config(1),
                        tmp_path_factory.mktemp("pre"))
    return model, slices


def test_stored_features_equal_the_encoder_output(pretrained):
    model, slices = pretrained
    encoder = copy.deepcopy(model.encoder).freeze()
    dataset = task_dataset(slices, slices.task("liver"), NoiseModel(), training=False)
    encoded = encode_dataset(encoder, dataset, views=1, seed=0)
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    with torch.no_grad():
        expected = encoder(images)
    assert len(encoded) == len(dataset)
    for index in (0, len(dataset) - 1):
        features, target = encoded[index]
        assert all(torch.allclose(f, e[index], atol=1e-6)
                   for f, e in zip(features, expected, strict=True))
        assert torch.equal(target, dataset[index][1])


def test_views_hold_different_augmentations_and_are_reproducible(pretrained):
    model, slices = pretrained
    encoder = copy.deepcopy(model.encoder).freeze()
    dataset = task_dataset(slices, slices.task("quality"), NoiseModel(), training=True,
                           augment=True)
    first = encode_dataset(encoder, dataset, views=3, seed=5)
    again = encode_dataset(encoder, dataset, views=3, seed=5)
    assert first.levels[0].shape[:2] == (3, len(dataset))
    assert all(torch.equal(a, b) for a, b in zip(first.levels, again.levels, strict=True))
    assert not torch.allclose(first.levels[0][0], first.levels[0][1])


def test_classifier_on_stored_pooled_vectors_matches_the_full_head(pretrained):
    model, slices = pretrained
    spec = tiny_spec(classifier_pooling="mean_std")
    encoder = copy.deepcopy(model.encoder).freeze()
    head = build_head(slices.task("quality"), spec).eval()
    dataset = task_dataset(slices, slices.task("quality"), NoiseModel(), training=False)
    loader = encoded_loader(encoder, head, torch.utils.data.DataLoader(dataset), 1,
                            tiny_config(1), shuffle=False)
    stored, _ = next(iter(loader))
    images = torch.stack([dataset[i][0] for i in range(len(stored[0]))])
    with torch.no_grad():
        direct = head(encoder(images))
        cached = HeadsOnFeatures({"quality": head})({"quality": stored})["quality"]
    assert torch.allclose(direct, cached, atol=1e-5)


def test_mean_std_pooling_and_single_sample_batches():
    head = ClassificationHead((2, 3), hidden=4, num_classes=2, levels=(0, 1),
                              pooling="mean_std")
    features = [torch.rand(5, 2, 4, 4), torch.rand(5, 3, 2, 2)]
    pooled = head.pool(features)
    flat = features[1].flatten(2)
    assert pooled.shape == (5, 2 * (2 + 3))
    assert torch.allclose(pooled[:, :2], features[0].mean((2, 3)))  # per level: means, SDs
    assert torch.allclose(pooled[:, 4:7], features[1].mean((2, 3)))
    assert torch.allclose(pooled[:, 7:], flat.std(2))
    head.train()
    assert head([f[:1] for f in features]).shape == (1, 2)  # no batch-norm error
    with pytest.raises(ValueError, match="pooling"):
        ClassificationHead((2,), 4, 2, pooling="max")


def test_independent_on_stored_features_trains_heads_not_the_encoder(pretrained, tmp_path):
    base, slices = pretrained
    model = copy.deepcopy(base)
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    options = FinetuneOptions("independent", ["liver", "quality"], feature_views=2,
                              task_epochs={"quality": 3})
    tuned, records = finetune(model, slices, synthetic_slices(8, seed=1, split="val"),
                              options, tiny_spec(), NoiseModel(), tiny_config(2, patience=50),
                              tmp_path)
    assert all(torch.equal(before[k], v) for k, v in tuned.encoder.state_dict().items())
    assert [(r.tasks, r.epochs) for r in records] == [(["liver"], 2), (["quality"], 3)]
    assert all(r.seconds > 0 for r in records)
    fresh = build_head(slices.task("quality"), tiny_spec())
    assert any(
        not torch.equal(a, b) for a, b in zip(fresh.state_dict().values(),
                                              tuned.heads["quality"].state_dict().values(),
                                              strict=True))
    # the trained heads work on images through the model, as after on-the-fly training
    with torch.no_grad():
        out = tuned(torch.from_numpy(slices.images[:2, None]), "quality")
    assert out.shape == (2, tuned.tasks["quality"].num_classes) and torch.isfinite(out).all()


@pytest.mark.parametrize("values, message", [
    ({"feature_views": -1}, "feature_views"), ({"feature_views": 1.5}, "feature_views"),
    ({"task_epochs": {"quality": 0}}, "task_epochs"),
    ({"task_epochs": {"qualty": 60}}, "'qualty', which is not among the fine-tuned tasks"),
])
def test_bad_feature_cache_options_are_one_line_errors(values, message):
    with pytest.raises(UserInputError, match=message):
        FinetuneOptions("independent", ["quality"], **values)


def test_encoder_builds_for_spec_with_mean_std_pooling():
    spec = tiny_spec(classifier_pooling="mean_std")
    assert build_encoder(spec) is not None
    with pytest.raises(UserInputError, match="classifier_pooling"):
        tiny_spec(classifier_pooling="median")


def _segmented(label: str, dice: list[float]):
    from UMSRepLib.evaluation.compare import EvaluatedModel

    return EvaluatedModel(label, Path(label), {}, {"liver": {
        "kind": "segmentation", "slice_rows": list(range(len(dice))), "slice_dice": dice}})


def test_dice_pairs_wilcoxon_matches_the_exact_null_distribution():
    from UMSRepLib.evaluation.compare import dice_pairs

    better = _segmented("a", [0.9, 0.8, 0.85, 0.7, 0.95, 0.6])
    worse = _segmented("b", [0.8, 0.75, 0.84, 0.5, 0.9, 0.3])
    (pair,) = dice_pairs([better, worse], "liver")
    # all 6 differences favour A: the exact two-sided p is 2 / 2**6
    assert pair["a_better"] == 6 and pair["b_better"] == 0
    assert pair["p_value"] == pytest.approx(2 / 2 ** 6)
    assert pair["mean_difference"] == pytest.approx((0.1 + 0.05 + 0.01 + 0.2 + 0.05 + 0.3) / 6)
    (same,) = dice_pairs([better, _segmented("c", list(better.metrics["liver"]["slice_dice"]))],
                         "liver")
    assert same["p_value"] == 1.0 and same["a_better"] == same["b_better"] == 0
    shifted = _segmented("d", [0.5])
    with pytest.raises(UserInputError, match="different slices"):
        dice_pairs([better, shifted], "liver")
