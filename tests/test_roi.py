"""Tests for QMRIMappingLib.roi: labelmaps, Slicer segmentations and resampling onto the image."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
import slicerio

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.roi import read_roi, write_labelmap

# A non-oblique but non-trivial orientation (a proper rotation: i -> P, j -> S, k -> L)
# so that code mixing up axis order or ignoring the direction fails the round trips.
ROTATED = (0.0, 0.0, 1.0,
           1.0, 0.0, 0.0,
           0.0, 1.0, 0.0)
IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
# 90 degrees about S: i -> P (+y), j -> R (-x).
TURNED = (0.0, -1.0, 0.0,
          1.0, 0.0, 0.0,
          0.0, 0.0, 1.0)


@pytest.fixture
def target() -> Geometry:
    return Geometry(size=(12, 10, 4), spacing=(1.5, 1.25, 5.0), origin=(-10.0, 20.0, -30.0),
                    direction=ROTATED)


def _random_mask(geometry: Geometry, seed: int = 0, fraction: float = 0.3) -> np.ndarray:
    mask = np.random.default_rng(seed).random(geometry.array_shape) < fraction
    assert mask.any() and not mask.all()
    return mask


def _assert_one_line(excinfo, *fragments: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def _write_segmentation(path, geometry: Geometry, named_masks: dict[str, np.ndarray]) -> dict:
    """Write a .seg.nrrd with slicerio the way Slicer stores it; return what slicerio wrote."""
    segmentation = slicerio.create_segmentation(geometry.size, geometry.ijk_to_lps())
    for index, (name, mask) in enumerate(named_masks.items()):
        # slicerio works in NRRD axis order (i, j, k); our masks are [z, y, x].
        slicerio.add_segment(segmentation, mask.transpose(2, 1, 0),
                             {"id": f"Segment_{index + 1}", "name": name})
    slicerio.write_segmentation(str(path), segmentation)
    return segmentation


# --- labelmaps on the image grid ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd"])
def test_labelmap_round_trip_on_same_grid(tmp_path, target, suffix):
    mask = _random_mask(target)
    path = write_labelmap(mask, target, tmp_path / f"roi{suffix}")

    written = sitk.ReadImage(str(path))
    assert written.GetPixelID() == sitk.sitkUInt8
    assert target.mismatch(Geometry.from_sitk(written)) is None

    result, description = read_roi(path, target)
    assert result.dtype == bool
    assert result.shape == target.array_shape
    np.testing.assert_array_equal(result, mask)
    assert path.name in description
    assert "on the image grid" in description
    assert "resampled" not in description


def test_labelmap_label_selection(tmp_path, target):
    labels = np.zeros(target.array_shape, dtype=np.uint8)
    labels[0, 2:5, 3:7] = 1
    labels[2, 4:8, 1:3] = 3
    path = write_labelmap(labels, target, tmp_path / "labels.nrrd")

    everything, description = read_roi(path, target)
    np.testing.assert_array_equal(everything, labels > 0)
    assert "1, 3" in description

    three, description = read_roi(path, target, label=3)
    np.testing.assert_array_equal(three, labels == 3)
    assert "label 3" in description

    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target, label=2)
    _assert_one_line(excinfo, "labels.nrrd", "no label 2", "1, 3")


def test_float_labelmap_with_fractions_is_rejected(tmp_path, target):
    probabilities = np.random.default_rng(1).random(target.array_shape).astype(np.float32)
    path = tmp_path / "probability.nii.gz"
    sitk.WriteImage(target.to_sitk(probabilities), str(path))
    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target)
    _assert_one_line(excinfo, "probability.nii.gz", "non-integer")


def test_float_labelmap_with_whole_numbers_is_accepted(tmp_path, target):
    mask = _random_mask(target, seed=2)
    path = tmp_path / "float_roi.nii.gz"
    sitk.WriteImage(target.to_sitk(mask.astype(np.float32)), str(path))
    result, _ = read_roi(path, target)
    np.testing.assert_array_equal(result, mask)


# --- Slicer segmentations ----------------------------------------------------------------------


def _liver_and_spleen(target: Geometry, overlap: bool) -> tuple[np.ndarray, np.ndarray]:
    liver = np.zeros(target.array_shape, dtype=bool)
    liver[1:3, 1:6, 2:8] = True
    spleen = np.zeros(target.array_shape, dtype=bool)
    spleen[1:4, 6:9, 8:11] = True
    if overlap:
        spleen[1:3, 4:6, 6:9] = True   # shares voxels with the liver: Slicer adds a layer
    assert overlap == bool((liver & spleen).any())
    return liver, spleen


@pytest.mark.parametrize("overlap", [False, True], ids=["shared-labelmap", "layered-4d"])
def test_segmentation_by_name_and_union(tmp_path, target, overlap):
    liver, spleen = _liver_and_spleen(target, overlap)
    path = tmp_path / "organs.seg.nrrd"
    _write_segmentation(path, target, {"liver": liver, "spleen": spleen})

    stored = slicerio.read_segmentation(str(path))
    assert stored["voxels"].ndim == (4 if overlap else 3)   # the layout under test

    by_name, description = read_roi(path, target, segment="spleen")
    np.testing.assert_array_equal(by_name, spleen)
    assert "segment 'spleen'" in description and "organs.seg.nrrd" in description
    assert "on the image grid" in description

    liver_only, _ = read_roi(path, target, segment="liver")
    np.testing.assert_array_equal(liver_only, liver)

    union, description = read_roi(path, target)
    np.testing.assert_array_equal(union, liver | spleen)
    assert "union" in description and "'liver'" in description and "'spleen'" in description


def test_segmentation_with_one_segment(tmp_path, target):
    liver, _ = _liver_and_spleen(target, overlap=False)
    path = tmp_path / "liver.seg.nrrd"
    _write_segmentation(path, target, {"liver": liver})
    result, description = read_roi(path, target)
    np.testing.assert_array_equal(result, liver)
    assert "segment 'liver'" in description and "only" in description


def test_segmentation_missing_name_lists_available(tmp_path, target):
    liver, spleen = _liver_and_spleen(target, overlap=False)
    path = tmp_path / "organs.seg.nrrd"
    _write_segmentation(path, target, {"liver": liver, "spleen": spleen})
    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target, segment="kidney")
    _assert_one_line(excinfo, "organs.seg.nrrd", "'kidney'", "'liver'", "'spleen'")


def test_segmentation_saved_as_plain_nrrd_is_recognised(tmp_path, target):
    liver, spleen = _liver_and_spleen(target, overlap=False)
    path = tmp_path / "organs.nrrd"
    _write_segmentation(path, target, {"liver": liver, "spleen": spleen})
    result, _ = read_roi(path, target, segment="liver")
    np.testing.assert_array_equal(result, liver)


def test_selector_that_does_not_fit_the_file_type(tmp_path, target):
    liver, _ = _liver_and_spleen(target, overlap=False)
    segmentation = _write_segmentation(tmp_path / "liver.seg.nrrd", target, {"liver": liver})
    assert segmentation["segments"][0]["name"] == "liver"
    labelmap = write_labelmap(liver, target, tmp_path / "liver.nii.gz")

    with pytest.raises(UserInputError) as excinfo:
        read_roi(tmp_path / "liver.seg.nrrd", target, label=1)
    _assert_one_line(excinfo, "liver.seg.nrrd")
    with pytest.raises(UserInputError) as excinfo:
        read_roi(labelmap, target, segment="liver")
    _assert_one_line(excinfo, "liver.nii.gz")
    with pytest.raises(UserInputError) as excinfo:
        read_roi(labelmap, target, segment="liver", label=1)
    _assert_one_line(excinfo, "liver.nii.gz")


# --- resampling onto another grid --------------------------------------------------------------


def _expected_nearest(target: Geometry, roi: Geometry, block: tuple[slice, slice, slice]):
    """Which target voxel centres fall inside the ROI block, computed without SimpleITK.

    ``block`` is a box of ROI voxels given as slices along (i, j, k). A target voxel is in
    the ROI when its centre, mapped into the ROI's continuous index space, lies within the
    half-voxel-padded box. Returns the expected mask and the smallest distance of any
    centre to the box faces (to make sure the test has no ties).
    """
    k, j, i = np.meshgrid(*(np.arange(n) for n in target.array_shape), indexing="ij")
    ijk = np.stack([i, j, k, np.ones_like(i)], axis=-1).reshape(-1, 4).astype(float)
    lps = ijk @ target.ijk_to_lps().T
    continuous = (lps @ np.linalg.inv(roi.ijk_to_lps()).T)[:, :3]
    low = np.array([s.start for s in block], dtype=float) - 0.5
    high = np.array([s.stop - 1 for s in block], dtype=float) + 0.5
    inside = np.all((continuous > low) & (continuous < high), axis=1)
    margin = np.min(np.minimum(np.abs(continuous - low), np.abs(continuous - high)))
    return inside.reshape(target.array_shape), margin


@pytest.mark.parametrize("roi_direction", [IDENTITY, TURNED],
                         ids=["coarser-shifted", "coarser-shifted-rotated"])
@pytest.mark.parametrize("kind", ["labelmap", "segmentation"])
def test_roi_on_other_grid_is_resampled_by_nearest_neighbour(tmp_path, roi_direction, kind):
    target = Geometry(size=(20, 18, 6), spacing=(2.0, 2.0, 3.0), origin=(0.3, -0.2, 1.1),
                      direction=IDENTITY)
    # Coarser and shifted; the rotated variant turns the ROI grid 90 degrees about S, so
    # its origin is moved to keep the ROI over the image.
    origin = (1.37, 2.11, -0.53) if roi_direction == IDENTITY else (38.37, 2.11, -0.53)
    roi = Geometry(size=(10, 11, 5), spacing=(3.1, 2.7, 4.2), origin=origin,
                   direction=roi_direction)
    block = (slice(2, 6), slice(3, 8), slice(1, 4))          # ROI voxels i, j, k
    roi_mask = np.zeros(roi.array_shape, dtype=bool)
    roi_mask[block[2], block[1], block[0]] = True

    if kind == "labelmap":
        path = write_labelmap(roi_mask, roi, tmp_path / "coarse.nii.gz")
    else:
        path = tmp_path / "coarse.seg.nrrd"
        _write_segmentation(path, roi, {"liver": roi_mask})

    expected, margin = _expected_nearest(target, roi, block)
    assert margin > 1e-3                      # no voxel centre sits on the ROI boundary
    assert expected.any() and not expected.all()

    result, description = read_roi(path, target)
    assert result.shape == target.array_shape
    np.testing.assert_array_equal(result, expected)
    assert "resampled" in description and "nearest neighbour" in description
    assert path.name in description


def test_cropped_segmentation_is_placed_in_the_image(tmp_path, target):
    """Slicer may save a segmentation cropped to its extent: same lattice, smaller grid."""
    liver, _ = _liver_and_spleen(target, overlap=False)
    crop = (slice(1, 3), slice(1, 6), slice(2, 8))              # [z, y, x] box of the liver
    offset = np.array([crop[2].start, crop[1].start, crop[0].start, 1.0])
    cropped = Geometry(size=(6, 5, 2), spacing=target.spacing,
                       origin=tuple((target.ijk_to_lps() @ offset)[:3]),
                       direction=target.direction)
    path = tmp_path / "cropped.seg.nrrd"
    _write_segmentation(path, cropped, {"liver": liver[crop]})
    result, description = read_roi(path, target)
    np.testing.assert_array_equal(result, liver)
    assert "resampled" in description


# --- errors --------------------------------------------------------------------------------------


def test_empty_roi(tmp_path, target):
    path = write_labelmap(np.zeros(target.array_shape, dtype=bool), target, tmp_path / "none.nrrd")
    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target)
    _assert_one_line(excinfo, "none.nrrd", "empty")


def test_roi_outside_the_image(tmp_path, target):
    far = Geometry(size=target.size, spacing=target.spacing,
                   origin=(500.0, 500.0, 500.0), direction=target.direction)
    path = write_labelmap(_random_mask(far), far, tmp_path / "elsewhere.nii.gz")
    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target)
    _assert_one_line(excinfo, "elsewhere.nii.gz", "does not overlap")


def test_roi_between_slice_centres_is_empty_after_resampling(tmp_path):
    target = Geometry(size=(8, 8, 3), spacing=(1.0, 1.0, 5.0), origin=(0.0, 0.0, 0.0),
                      direction=IDENTITY)
    # One thin slice at z = 2.5 mm (covering 2..3 mm): inside the image box, but no image
    # voxel centre (z = 0, 5, 10 mm) falls in it.
    thin = Geometry(size=(8, 8, 1), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 2.5),
                    direction=IDENTITY)
    path = write_labelmap(np.ones(thin.array_shape, dtype=bool), thin, tmp_path / "thin.nrrd")
    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target)
    _assert_one_line(excinfo, "thin.nrrd", "empty after resampling")


def test_unknown_extension_missing_and_unreadable_files(tmp_path, target):
    with pytest.raises(UserInputError) as excinfo:
        read_roi(tmp_path / "roi.mha", target)
    _assert_one_line(excinfo, "roi.mha", "unknown file type")

    with pytest.raises(UserInputError) as excinfo:
        read_roi(tmp_path / "absent.nii.gz", target)
    _assert_one_line(excinfo, "absent.nii.gz", "does not exist")

    for name in ("garbage.nii.gz", "garbage.nrrd", "garbage.seg.nrrd"):
        (tmp_path / name).write_bytes(b"this is not an image\n" * 8)
        with pytest.raises(UserInputError) as excinfo:
            read_roi(tmp_path / name, target)
        _assert_one_line(excinfo, name)


def test_truncated_segmentation_is_reported(tmp_path, target):
    liver, _ = _liver_and_spleen(target, overlap=False)
    path = tmp_path / "broken.seg.nrrd"
    _write_segmentation(path, target, {"liver": liver})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(UserInputError) as excinfo:
        read_roi(path, target)
    _assert_one_line(excinfo, "broken.seg.nrrd")


# --- 2-D ROIs ------------------------------------------------------------------------------------


def _write_2d(path, mask_yx: np.ndarray) -> None:
    image = sitk.GetImageFromArray(mask_yx.astype(np.uint8))
    assert image.GetDimension() == 2
    sitk.WriteImage(image, str(path))


def test_2d_roi_on_single_slice_image(tmp_path):
    target = Geometry(size=(9, 7, 1), spacing=(1.4, 1.4, 8.0), origin=(-60.0, 40.0, -112.0),
                      direction=ROTATED)
    mask = np.zeros((7, 9), dtype=bool)
    mask[2:5, 3:8] = True
    _write_2d(tmp_path / "slice.nii.gz", mask)
    result, description = read_roi(tmp_path / "slice.nii.gz", target)
    np.testing.assert_array_equal(result, mask[np.newaxis])
    assert "2-D" in description


def test_2d_roi_on_multi_slice_or_other_size_image(tmp_path, target):
    mask = np.ones(target.array_shape[1:], dtype=bool)
    _write_2d(tmp_path / "slice.nrrd", mask)
    with pytest.raises(UserInputError) as excinfo:
        read_roi(tmp_path / "slice.nrrd", target)
    _assert_one_line(excinfo, "slice.nrrd", "2-D", "4 slices")

    single = Geometry(size=(5, 5, 1), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0),
                      direction=IDENTITY)
    with pytest.raises(UserInputError) as excinfo:
        read_roi(tmp_path / "slice.nrrd", single)
    _assert_one_line(excinfo, "slice.nrrd", "2-D")


# --- write_labelmap ------------------------------------------------------------------------------


def test_write_labelmap_checks_its_input(tmp_path, target):
    with pytest.raises(UserInputError):
        write_labelmap(_random_mask(target), target, tmp_path / "roi.png")
    with pytest.raises(ValueError):
        write_labelmap(np.zeros((1, 2, 3), dtype=bool), target, tmp_path / "roi.nrrd")
    with pytest.raises(ValueError):
        write_labelmap(np.full(target.array_shape, 300), target, tmp_path / "roi.nrrd")


def test_write_labelmap_keeps_label_values(tmp_path, target):
    labels = np.zeros(target.array_shape, dtype=np.int64)
    labels[1, 2:4, 2:6] = 7
    path = write_labelmap(labels, target, tmp_path / "sub" / "labels.nii.gz")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(path))), labels)
