"""The generic dataset layout (and its one-line errors), readers, orientation,
resampling and the bundled liver-MR family."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from UMSRepLib.data.corruption import motion_ghosting
from UMSRepLib.data.layout import index_dataset
from UMSRepLib.data.orientation import Reorientation, canonical_reorientation
from UMSRepLib.data.preprocess import normalise_intensity, slice_transform
from UMSRepLib.data.readers import read_image, write_like
from UMSRepLib.data.slices import load_slices
from UMSRepLib.data.volume import prepare_volume
from UMSRepLib.errors import DatasetError

from .umsrep_fixtures import phantom_dataset  # noqa: F401


def write_png(path: Path, array: np.ndarray) -> None:
    sitk.WriteImage(sitk.GetImageFromArray(np.asarray(array, np.uint8)), str(path))


def make_dataset(root: Path, cases: int = 6, classes=("a", "b"), masks: bool = True,
                 yaml_text: str | None = None, rows=None) -> Path:
    (root / "images").mkdir(parents=True)
    if masks:
        (root / "masks" / "organ").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(cases):
        write_png(root / "images" / f"case{i}.png", rng.integers(0, 255, (20, 24)))
        if masks:
            mask = np.zeros((20, 24), np.uint8)
            mask[5:12, 6:15] = 1
            write_png(root / "masks" / "organ" / f"case{i}.png", mask)
    if rows is None:
        rows = [{"image": f"case{i}.png", "split": "train" if i < cases - 2 else "test",
                 "kind": classes[i % len(classes)], "_note": "x"} for i in range(cases)]
    if rows:
        with (root / "labels.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    if yaml_text:
        (root / "dataset.yaml").write_text(yaml_text)
    return root


def test_valid_dataset_is_indexed_with_its_tasks(tmp_path):
    root = make_dataset(tmp_path / "d", yaml_text="name: toy\nmodality: CT\ntasks:\n"
                        "  kind: {kind: classification, classes: [b, a]}\n")
    index = index_dataset(root)
    assert [t.name for t in index.tasks] == ["denoise", "organ", "kind"]
    assert index.task("kind").classes == ("b", "a")  # order from dataset.yaml
    assert index.name == "toy" and index.modality == "CT"
    assert index.cases[0].labels == {"kind": 1} and index.cases[1].labels == {"kind": 0}
    assert [c.split for c in index.cases] == ["train"] * 4 + ["test"] * 2
    assert index.summary()["kind"] == {"b": 3, "a": 3}


def first_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("damage, words", [
    (lambda r: (r / "masks" / "organ" / "case2.png").unlink(), "missing mask for case 'case2'"),
    (lambda r: write_png(r / "masks" / "organ" / "stray.png", np.zeros((4, 4))),
     "masks/organ/stray.png has no image"),
    (lambda r: (r / "images" / "case1.png").unlink(), "names image 'case1.png', which is not"),
    (lambda r: write_png(r / "images" / "extra.png", np.zeros((4, 4))),
     "image 'extra.png' has no row"),
    (lambda r: (r / "dataset.yaml").write_text(
        "tasks:\n  kind: {kind: classification, classes: [a, b, c]}\n"), "class 'c'"),
    (lambda r: (r / "dataset.yaml").write_text(
        "tasks:\n  kind: {kind: classification, classes: [a]}\n"), "at least two"),
    (lambda r: (r / "dataset.yaml").write_text(
        "tasks:\n  kind: {kind: classification, classes: [a, c]}\n"), "which is not one of"),
    (lambda r: (r / "dataset.yaml").write_text("tasks:\n  spleen: {kind: segmentation}\n"),
     "declares task 'spleen'"),
    (lambda r: (r / "labels.csv").write_text("file,kind\ncase0.png,a\n"),
     "needs an 'image' column"),
])
def test_broken_datasets_fail_with_one_line(tmp_path, damage, words):
    root = make_dataset(tmp_path / "d")
    damage(root)
    with pytest.raises(DatasetError) as error:
        index_dataset(root)
    assert words in first_line(error)


def test_more_layout_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        index_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images/ folder"):
        index_dataset(tmp_path / "empty")
    rows = [{"image": f"case{i}.png", "split": "later", "kind": "ab"[i % 2]} for i in range(6)]
    with pytest.raises(DatasetError, match="split 'later'"):
        index_dataset(make_dataset(tmp_path / "split", rows=rows))
    rows = [{"image": f"case{i}.png", "split": "train" if i < 4 else "test",
             "kind": "a" if i < 4 else "b"} for i in range(6)]
    with pytest.raises(DatasetError, match="no training example"):
        index_dataset(make_dataset(tmp_path / "train_empty", rows=rows))


def test_label_free_dataset_gets_a_hash_split(tmp_path):
    root = make_dataset(tmp_path / "plain", cases=30, masks=False, rows=[])
    first = [c.split for c in index_dataset(root).cases]
    assert first == [c.split for c in index_dataset(root).cases]
    assert set(first) <= {"train", "val", "test"} and first.count("train") >= 18
    assert [t.name for t in index_dataset(root).tasks] == ["denoise"]


def test_3d_nifti_cases_give_one_sample_per_slice(tmp_path):
    root = tmp_path / "vol"
    (root / "images").mkdir(parents=True)
    (root / "masks" / "organ").mkdir(parents=True)
    volume = np.random.default_rng(0).random((5, 16, 16)).astype(np.float32)
    mask = np.zeros((5, 16, 16), np.uint8)
    mask[1:4, 4:10, 4:10] = 1
    for name, array in (("images/a.nii.gz", volume), ("masks/organ/a.nii.gz", mask)):
        image = sitk.GetImageFromArray(array)
        image.SetSpacing((2.0, 2.0, 5.0))
        sitk.WriteImage(image, str(root / name))
    slices = load_slices(index_dataset(root), 16, None)
    assert slices.images.shape == (5, 16, 16) and slices.masks["organ"].shape == (5, 16, 16)
    assert slices.masks["organ"][0].sum() == 0 and slices.masks["organ"][2].sum() > 20
    sitk.WriteImage(sitk.GetImageFromArray(mask[:, :8]), str(root / "masks/organ/a.nii.gz"))
    with pytest.raises(DatasetError, match="has shape"):
        load_slices(index_dataset(root), 16, None)


def test_readers_handle_png_colour_dicom_and_report_bad_files(tmp_path):
    rgb = np.zeros((6, 7, 3), np.uint8)
    rgb[..., 0] = 90
    sitk.WriteImage(sitk.GetImageFromArray(rgb, isVector=True), str(tmp_path / "c.png"))
    loaded = read_image(tmp_path / "c.png")
    assert loaded.array.shape == (1, 6, 7) and np.allclose(loaded.array, 30)
    assert not loaded.has_geometry and loaded.dimension == 2
    image = sitk.GetImageFromArray(np.arange(48, dtype=np.int16).reshape(1, 6, 8))
    image.SetSpacing((0.7, 0.8, 3.0))
    sitk.WriteImage(image, str(tmp_path / "one.dcm"))
    dicom = read_image(tmp_path / "one.dcm")
    assert dicom.array.shape == (1, 6, 8) and dicom.spacing[:2] == pytest.approx((0.7, 0.8))
    (tmp_path / "bad.nii.gz").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match="cannot read image"):
        read_image(tmp_path / "bad.nii.gz")
    written = write_like(loaded.array > 10, loaded, tmp_path / "mask.nii.gz")
    assert read_image(written).array.shape == (1, 6, 7)


def test_reorientation_round_trips_and_finds_lps():
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    for permutation in ((0, 1, 2), (2, 0, 1), (1, 2, 0)):
        for flips in ((False, True, False), (True, True, True)):
            turn = Reorientation(permutation, flips)
            assert np.array_equal(turn.invert(turn.apply(array)), array)
    ras = np.diag([-1.0, -1.0, 1.0])  # a NIfTI stored RAS: i toward left->right flipped
    turn = canonical_reorientation(ras)
    assert turn.permutation == (0, 1, 2) and turn.flips == (False, True, True)
    coronal = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # k runs anterior
    turn = canonical_reorientation(coronal)
    assert turn.permutation == (1, 0, 2) and turn.flips == (True, False, False)
    assert turn.spacing((0.5, 0.7, 3.0)) == (0.5, 3.0, 0.7)


def test_resampling_keeps_physical_size_and_inverts():
    yy, xx = np.mgrid[:120, :100]
    fine = (((yy - 60) * 1.0) ** 2 + ((xx - 50) * 1.0) ** 2 < 40 ** 2).astype(np.float32)
    yy, xx = np.mgrid[:40, :34]
    coarse = (((yy - 20) * 3.0) ** 2 + ((xx - 17) * 3.0) ** 2 < 40 ** 2).astype(np.float32)
    a = slice_transform(fine.shape, 32, (1.0, 1.0), 200.0).to_model(fine)
    b = slice_transform(coarse.shape, 32, (3.0, 3.0), 200.0).to_model(coarse)
    assert abs((a > 0.5).sum() - (b > 0.5).sum()) <= 0.06 * (a > 0.5).sum()
    smooth = np.outer(np.hanning(40), np.hanning(30)).astype(np.float32)
    transform = slice_transform(smooth.shape, 64)
    back = transform.from_model(transform.to_model(smooth))
    assert back.shape == smooth.shape and np.abs(back - smooth).max() < 0.05
    normalised, scale = normalise_intensity(smooth * 500)
    assert scale > 0 and np.percentile(normalised, 99) == pytest.approx(1.0)


def test_prepared_volume_restores_on_the_original_grid():
    volume = np.random.default_rng(1).random((3, 20, 30)).astype(np.float32)
    prepared = prepare_volume(volume, (1.5, 1.5, 4.0), np.diag([-1.0, -1.0, 1.0]), 32, None)
    assert prepared.slices.shape == (3, 32, 32)
    restored = prepared.restore(np.ones((3, 32, 32), np.float32))
    assert restored.shape == volume.shape and np.allclose(restored, 1.0)


def test_motion_ghosting_spreads_signal_along_the_phase_direction():
    image = np.zeros((64, 64), np.float32)
    image[24:40, 24:40] = 1.0
    ghosted = motion_ghosting(image, 3.0, np.random.default_rng(0))
    outside = np.ones_like(image, bool)
    outside[20:44, 20:44] = False
    assert ghosted.shape == image.shape
    assert ghosted[outside].sum() > 10 * max(image[outside].sum(), 1e-3)


def test_liver_family_has_the_four_tasks(phantom_dataset):  # noqa: F811
    index = index_dataset(phantom_dataset)
    assert [t.name for t in index.tasks] == ["denoise", "liver", "quality", "tissue"]
    summary = index.summary()
    assert summary["cases"] == {"train": 12, "val": 6, "test": 6}
    assert all(summary["quality"][c] > 0 for c in ("clean", "motion", "noise"))
    assert summary["tissue"]["normal"] > 0 and summary["tissue"]["fibrotic"] > 0
    shared = [c for c in index.cases if "shared" in c.name]
    assert shared and all("tissue" not in c.labels for c in shared)
    rows = list(csv.DictReader((phantom_dataset / "labels.csv").open()))
    fibrotic = {r["_subject"] for r in rows if float(r["_t1rho_factor"]) > 1.0}
    assert fibrotic and all(r["tissue"] in ("", "fibrotic") for r in rows
                            if r["_subject"] in fibrotic)


def test_fibrotic_maps_raise_liver_values_only():
    from QMRIMappingLib.phantom import LABEL_IDS, generate_subject
    from UMSRepLib.data.tissue_state import fibrotic_maps, healthy_maps, synthesise

    subject = generate_subject(5, matrix=64, n_slices=1, snr=float("inf"))
    maps = fibrotic_maps(subject, np.random.default_rng(0))
    liver = subject.labels == LABEL_IDS["liver"]
    ratio = maps.t1rho_ms[liver] / subject.t1rho_ms[liver]
    assert np.allclose(ratio, maps.t1rho_factor) and 1.25 <= maps.t1rho_factor <= 1.6
    other = ~liver & np.isfinite(subject.t1rho_ms)
    assert np.array_equal(maps.t1rho_ms[other], subject.t1rho_ms[other])
    normal = synthesise(subject, healthy_maps(subject), "t1rho", 50.0)
    raised = synthesise(subject, maps, "t1rho", 50.0)
    assert (raised[liver] > normal[liver]).all()
    assert np.array_equal(raised[~liver], normal[~liver])
    assert np.allclose(synthesise(subject, maps, "shared", 0.0), subject.images[0].data)


def test_contrast_augmentation_remaps_tissues_but_not_for_classification():
    from UMSRepLib.data.augment import Augmentation, augment_image, contrast_augment
    from UMSRepLib.data.datasets import ClassificationDataset

    from .umsrep_fixtures import QUALITY, synthetic_slices

    image = np.array([[0.0, 0.3, 0.6, 0.9]], np.float32)
    orders = set()
    for seed in range(20):
        out = contrast_augment(image, np.random.default_rng(seed))
        assert out[0, 0] == 0.0 and out.min() >= 0.0 and out.max() <= 1.0
        orders.add(tuple(np.argsort(out[0, 1:])))
    assert len(orders) > 3  # tissues change their brightness order
    rng = np.random.default_rng(0)
    assert np.array_equal(augment_image(image, rng, Augmentation(contrast=True), False), image)
    with pytest.raises(Exception, match="unknown augment option"):
        Augmentation.of({"contrast": True, "flip": True})
    slices = synthetic_slices(8)
    dataset = ClassificationDataset(slices, QUALITY, augment=Augmentation(contrast=True))
    assert np.array_equal(dataset[0][0][0].numpy(), slices.images[dataset.indices[0]])


def test_outputs_outside_the_model_field_of_view_are_zero():
    transform = slice_transform((100, 100), 16, (5.0, 5.0), 200.0)  # 500 mm image, 200 mm model
    back = transform.from_model(np.ones((16, 16), np.float32))
    assert back[50, 50] == 1.0 and back[0, 0] == 0.0 and back[50, 2] == 0.0
    inside = back > 0
    assert abs(inside.sum() * 25.0 - 200.0 ** 2) < 0.1 * 200.0 ** 2
