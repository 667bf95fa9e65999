"""Tests of the training samples, augmentation, cohorts and dataset (QMRIMappingLib.networks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.networks import (
    PAPER_PAIRS_MS,
    TEST_SEED_START,
    MappingSliceDataset,
    build_cohort,
    held_out_cohort,
    load_folder_cohort,
)
from QMRIMappingLib.networks.augment import (
    AugmentOptions,
    random_affine,
    rigid_affine,
    warp,
    warp_labels,
)
from QMRIMappingLib.networks.normalisation import slice_scale
from QMRIMappingLib.networks.samples import samples_from_subject
from QMRIMappingLib.phantom import generate_subject, write_subject

T1RHO_TIMES = [0.0, 10.0, 30.0, 50.0]
T2_TIMES = [0.0, 18.2, 34.6, 51.0]


@pytest.fixture(scope="module")
def subject():
    return generate_subject(11, matrix=64, n_slices=2, snr=200.0)


@pytest.fixture(scope="module")
def samples(subject):
    return samples_from_subject(subject)


def _by_key(subject):
    return {(im.role, im.time_ms): im.data for im in subject.images}


def test_samples_hold_both_series_normalised_with_truth(subject, samples):
    images = _by_key(subject)
    assert len(samples) == 2
    for k, sample in enumerate(samples):
        shared = images[("shared", 0.0)][k]
        assert sample.scale == pytest.approx(slice_scale(shared))
        np.testing.assert_allclose(sample.series("T1rho")[2], images[("t1rho", 30.0)][k]
                                   / sample.scale, rtol=1e-6)
        np.testing.assert_allclose(sample.series("T2")[3], images[("t2", 51.0)][k]
                                   / sample.scale, rtol=1e-6)
        np.testing.assert_array_equal(sample.series("T1rho")[0], sample.series("T2")[0])
        assert sample.series_times("T2").tolist() == pytest.approx(T2_TIMES)
        np.testing.assert_array_equal(sample.mask, subject.body_mask[k])
        np.testing.assert_array_equal(sample.gt["T1rho"], subject.t1rho_ms[k])
        assert not sample.has_labels("mle")
        assert sample.noise_sigma == pytest.approx(subject.noise_sigma / sample.scale)
        # the scale is a robust foreground maximum: ~1 % of the body lies above it
        assert 0.001 < np.mean(sample.images[0][sample.mask] > 1.0) < 0.05


def test_training_items_have_the_documented_format(samples):
    data = MappingSliceDataset(samples, train=True, seed=3)
    item = data[1]
    assert item["inputs"].shape == (3, 64, 64)
    assert item["series"]["T1rho"].shape == (4, 64, 64)
    assert item["times"]["T1rho"].tolist() == pytest.approx(T1RHO_TIMES)
    assert item["times"]["T2"].tolist() == pytest.approx(T2_TIMES)
    assert item["mask"].shape == item["roi"].shape == item["gt"]["T2"].shape == (1, 64, 64)
    pair = tuple(item["input_times"].tolist())
    assert pair in [pytest.approx(p) for p in PAPER_PAIRS_MS]
    # the inputs are the series images at the chosen times (augmented identically)
    tsl_index = T1RHO_TIMES.index(pytest.approx(pair[0]))
    tp_index = T2_TIMES.index(pytest.approx(pair[1]))
    assert torch.equal(item["inputs"][0], item["series"]["T1rho"][0])
    assert torch.equal(item["inputs"][1], item["series"]["T1rho"][tsl_index])
    assert torch.equal(item["inputs"][2], item["series"]["T2"][tp_index])
    batch = torch.utils.data.default_collate([data[0], data[1]])
    assert batch["series"]["T2"].shape == (2, 4, 64, 64)
    assert batch["input_times"].shape == (2, 2)


def test_training_draws_are_random_but_reproducible(samples):
    data = MappingSliceDataset(samples * 10, train=True, seed=1)
    first = [tuple(data[i]["input_times"].tolist()) for i in range(20)]
    assert len(set(first)) == 3  # every trained pair turns up
    assert first == [tuple(data[i]["input_times"].tolist()) for i in range(20)]
    assert torch.equal(data[4]["inputs"], data[4]["inputs"])
    data.set_epoch(1)
    assert first != [tuple(data[i]["input_times"].tolist()) for i in range(20)]


def test_evaluation_items_cover_every_slice_and_pair_in_order(samples):
    data = MappingSliceDataset(samples, train=False)
    assert len(data) == 2 * 3
    seen = [(data[i]["slice_index"], tuple(data[i]["input_times"].tolist()))
            for i in range(len(data))]
    assert seen == [(k, pytest.approx(p)) for k in (0, 1) for p in PAPER_PAIRS_MS]
    # no augmentation in evaluation
    np.testing.assert_array_equal(data[0]["series"]["T1rho"].numpy(), samples[0].series("T1rho"))
    fixed = MappingSliceDataset(samples, train=False, pairs=[(50.0, 18.2)])
    assert len(fixed) == 2
    assert fixed[1]["input_times"].tolist() == pytest.approx([50.0, 18.2])
    np.testing.assert_array_equal(fixed[1]["inputs"][1].numpy(), samples[1].series("T1rho")[3])
    np.testing.assert_array_equal(fixed[1]["inputs"][2].numpy(), samples[1].series("T2")[1])
    with pytest.raises(UserInputError, match=r"no T2 image at 20 ms \(available: 18.2"):
        MappingSliceDataset(samples, train=False, pairs=[(10.0, 20.0)])
    with pytest.raises(IndexError):
        fixed[2]


def test_augmentation_moves_images_masks_and_labels_together():
    rng = np.random.default_rng(0)
    height, width = 48, 64
    yy, xx = np.mgrid[:height, :width]
    blob = (((yy - 20) / 12.0) ** 2 + ((xx - 30) / 18.0) ** 2 < 1).astype(np.float32)
    images = torch.from_numpy(np.stack([blob * c for c in (1.0, 0.7, 0.4)]))
    mask = torch.from_numpy(blob[None])
    labels = torch.from_numpy(np.where(blob > 0, 40.0, np.nan).astype(np.float32)[None])
    theta = random_affine(rng, AugmentOptions(10.0, 0.1), height, width)
    assert not torch.allclose(theta, torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]))
    moved = warp(images, theta, "bilinear")
    moved_mask = warp(mask, theta, "nearest")
    moved_labels = warp_labels(labels, theta)
    # bilinear resampling is linear: the images keep their exact ratios (same transform)
    np.testing.assert_allclose(moved[1].numpy(), 0.7 * moved[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(moved[2].numpy(), 0.4 * moved[0].numpy(), atol=1e-6)
    # the mask and labels land where the image went; NaN stays NaN, values are not mixed
    inside = moved[0].numpy() > 0.99
    assert inside.sum() > 100
    assert moved_mask[0].numpy()[inside].min() == 1.0
    known = torch.isfinite(moved_labels[0]).numpy()
    np.testing.assert_array_equal(known, moved_mask[0].numpy() > 0.5)
    assert set(np.unique(moved_labels[0].numpy()[known])) == {40.0}
    assert not np.array_equal(moved_mask[0].numpy(), blob)


@pytest.mark.parametrize("angle", [90.0, 30.0, -45.0])
def test_rotation_is_rigid_on_non_square_images(angle):
    height, width = 48, 80
    image = torch.zeros(1, height, width)
    image[0, 22:26, 54:58] = 1.0  # a spot 16 px right of the centre (23.5, 39.5)
    moved = warp(image, rigid_affine(angle, 0.0, 0.0, height, width), "bilinear")[0].numpy()
    rows, cols = np.nonzero(moved > 0.5)
    distance = math.hypot(rows.mean() - 23.5, cols.mean() - 39.5)
    assert distance == pytest.approx(16.0, abs=0.6)
    turned = math.degrees(math.atan2(rows.mean() - 23.5, cols.mean() - 39.5))
    assert abs(turned) == pytest.approx(abs(angle), abs=3.0)
    shifted = warp(image, rigid_affine(0.0, 0.1, -0.25, height, width), "bilinear")[0].numpy()
    rows, cols = np.nonzero(shifted > 0.5)
    assert (rows.mean(), cols.mean()) == (pytest.approx(23.5 + 12.0), pytest.approx(55.5 - 8.0))


def test_zero_augmentation_is_the_identity(samples):
    still = MappingSliceDataset(samples, train=True, augment=AugmentOptions(0.0, 0.0))
    item = still[0]
    np.testing.assert_allclose(item["series"]["T2"].numpy(), samples[0].series("T2"), atol=1e-6)
    np.testing.assert_array_equal(item["mask"][0].numpy() > 0.5, samples[0].mask)
    np.testing.assert_array_equal(item["gt"]["T1rho"][0].numpy(), samples[0].gt["T1rho"])
    moving = MappingSliceDataset(samples, train=True)
    assert not torch.equal(moving[0]["mask"], item["mask"])


def test_training_and_test_cohorts_are_disjoint_and_reproducible():
    train = build_cohort(3, 0, snr_range=(20.0, 80.0), motion_mm_range=(0.0, 1.0),
                         matrix=64, n_slices=1)
    again = build_cohort(3, 0, snr_range=(20.0, 80.0), motion_mm_range=(0.0, 1.0),
                         matrix=64, n_slices=1)
    test = held_out_cohort(2, matrix=64, n_slices=1)
    assert [s["seed"] for s in train.subjects] == [0, 1, 2]
    assert [s["seed"] for s in test.subjects] == [TEST_SEED_START, TEST_SEED_START + 1]
    assert len(train.samples) == 3 and len(test.samples) == 2
    snrs = [s["snr"] for s in train.subjects]
    assert all(20.0 <= v <= 80.0 for v in snrs) and len(set(snrs)) == 3
    assert all(0.0 <= s["motion_mm"] <= 1.0 for s in train.subjects)
    for a, b in zip(train.samples, again.samples, strict=True):
        np.testing.assert_array_equal(a.images, b.images)
    assert train.samples[0].metadata["snr"] == pytest.approx(snrs[0])
    assert not np.array_equal(train.samples[0].mask, train.samples[1].mask)
    with pytest.raises(UserInputError, match="held-out test cohort"):
        build_cohort(2, TEST_SEED_START - 1)
    with pytest.raises(UserInputError, match="snr_range"):
        build_cohort(1, snr_range=(0.0, 10.0))


def test_mle_labels_come_from_the_nlls_engine():
    cohort = build_cohort(1, 5, snr_range=(300.0, 300.0), shim_artifact_fraction=0.0,
                          matrix=64, n_slices=1, mle_labels=True)
    sample = cohort.samples[0]
    assert sample.has_labels("mle")
    assert np.isnan(sample.mle["T2"][~sample.mask]).all()
    liver = sample.roi
    for task in ("T1rho", "T2"):
        relative = np.abs(sample.mle[task][liver] / sample.gt[task][liver] - 1)
        assert np.median(relative) < 0.03, task


def test_user_folder_loads_into_the_same_format(tmp_path):
    subject = generate_subject(21, matrix=64, n_slices=2)
    write_subject(subject, tmp_path / "scan", "nifti")
    cohort = load_folder_cohort(tmp_path / "scan" / "images", subject_id="patient")
    assert len(cohort.samples) == 2
    sample = cohort.samples[0]
    assert sample.prepared_times == {"T1rho": (10.0, 30.0, 50.0), "T2": (18.2, 34.6, 51.0)}
    assert sample.subject_id == "patient" and not sample.has_labels("gt")
    assert math.isfinite(sample.noise_sigma)
    assert sample.mask[subject.roi[0] > 0].all()  # the signal mask covers the liver
    item = MappingSliceDataset(cohort.samples, train=False)[2]
    assert item["input_times"].tolist() == pytest.approx([50.0, 51.0])
    assert torch.isnan(item["gt"]["T1rho"]).all()


def test_user_folder_without_the_full_protocol_is_refused(tmp_path):
    subject = generate_subject(22, matrix=64, n_slices=1)
    write_subject(subject, tmp_path / "scan", "nifti")
    for path in (tmp_path / "scan" / "images").glob("*T2prep_51ms*"):
        path.unlink()
    with pytest.raises(UserInputError, match=r"4\+4 protocol .* found 1 shared, 3 t1rho, 2 t2"):
        load_folder_cohort(tmp_path / "scan" / "images")
