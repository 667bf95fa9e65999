"""Tests of the digital liver phantom (QMRIMappingLib.phantom)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from scipy import ndimage

from QMRIMappingLib import __version__
from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.phantom import (
    LABEL_IDS,
    LABELS,
    ROI_VESSEL_MARGIN_MM,
    TISSUES,
    generate_subject,
    write_subject,
)
from QMRIMappingLib.phantom.tissues import LIVER_LITERATURE_RANGE_MS

TSL = (0.0, 10.0, 30.0, 50.0)
TP = (0.0, 18.2, 34.6, 51.0)
DESCRIPTIONS = {
    ("shared", 0.0): "WIP T1rho_T2prep TSL0 TP0 SENSE",
    ("t1rho", 10.0): "WIP T1rho_TSL10ms SENSE",
    ("t1rho", 30.0): "WIP T1rho_TSL30ms SENSE",
    ("t1rho", 50.0): "WIP T1rho_TSL50ms SENSE",
    ("t2", 18.2): "WIP T2prep 18.2ms SENSE",
    ("t2", 34.6): "WIP T2prep 34.6ms SENSE",
    ("t2", 51.0): "WIP T2prep 51ms SENSE",
}


@pytest.fixture(scope="module")
def subject():
    return generate_subject(0)


@pytest.fixture(scope="module")
def ideal():
    """Noise-free, no shim artifact, no motion."""
    return generate_subject(1, snr=math.inf, shim_artifact=False)


def _by_key(subject):
    return {(im.role, im.time_ms): im for im in subject.images}


def _centroid(mask: np.ndarray) -> np.ndarray:
    """(slice, row, column) centre of mass of a mask."""
    return np.array(ndimage.center_of_mass(mask.astype(float)))


# --- determinism and variety -------------------------------------------------------------

def test_same_seed_gives_identical_subject():
    a, b = generate_subject(3, matrix=128), generate_subject(3, matrix=128)
    for name in ("t1rho_ms", "t2_ms", "proton_density", "coil", "labels", "roi",
                 "body_mask", "shim_box"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.noise_sigma == b.noise_sigma
    for im_a, im_b in zip(a.images, b.images, strict=True):
        assert (im_a.role, im_a.time_ms) == (im_b.role, im_b.time_ms)
        np.testing.assert_array_equal(im_a.data, im_b.data)


def test_different_seed_gives_different_anatomy():
    a, b = generate_subject(3, matrix=128), generate_subject(4, matrix=128)
    assert np.mean(a.labels != b.labels) > 0.05
    liver = LABEL_IDS["liver"]
    assert abs(np.sum(a.labels == liver) - np.sum(b.labels == liver)) > 50
    assert np.nanmean(a.t1rho_ms[a.labels == liver]) != np.nanmean(b.t1rho_ms[b.labels == liver])


def test_anatomy_changes_smoothly_with_slice(subject):
    liver = subject.labels == LABEL_IDS["liver"]
    areas = liver.sum(axis=(1, 2)).astype(float)
    assert all(areas > 0)
    for k in range(len(areas) - 1):
        assert not np.array_equal(subject.labels[k], subject.labels[k + 1])
        assert abs(areas[k + 1] - areas[k]) / areas[k] < 0.3
        # Neighbouring slices mostly agree: organs move, they do not jump.
        assert np.mean(subject.labels[k] == subject.labels[k + 1]) > 0.8


def test_realistic_structures_are_present(subject):
    present = set(np.unique(subject.labels).tolist())
    for name in ("subcutaneous_fat", "abdominal_wall_muscle", "liver", "hepatic_vein",
                 "portal_vein", "bile_duct", "spleen", "kidney_cortex", "vertebra",
                 "spinal_canal", "paraspinal_muscle", "aorta", "inferior_vena_cava"):
        assert LABEL_IDS[name] in present, name
    assert set(subject.label_names) == set(LABELS)


def test_organs_vary_within_and_are_nan_outside_body(subject):
    liver = subject.labels == LABEL_IDS["liver"]
    for values in (subject.t1rho_ms[liver], subject.t2_ms[liver]):
        assert values.std() / values.mean() > 0.01      # not a constant patch
        assert values.std() / values.mean() < 0.15
    outside = ~subject.body_mask
    assert np.isnan(subject.t1rho_ms[outside]).all() and np.isnan(subject.t2_ms[outside]).all()
    assert np.isfinite(subject.t1rho_ms[subject.body_mask]).all()
    assert subject.t1rho_ms.dtype == np.float32 and subject.t2_ms.dtype == np.float32


# --- signal and noise ----------------------------------------------------------------------

def test_noise_free_signal_obeys_monoexponential_model(ideal):
    images = _by_key(ideal)
    s0 = ideal.proton_density.astype(np.float64) * ideal.coil
    body = ideal.body_mask
    np.testing.assert_allclose(images[("shared", 0.0)].data[body], s0[body], rtol=1e-6)
    for (role, t), image in images.items():
        assert image.data.dtype == np.float32 and image.data.shape == ideal.geometry.array_shape
        if role == "shared":
            continue
        relax = ideal.t1rho_ms if role == "t1rho" else ideal.t2_ms
        expected = s0[body] * np.exp(-t / relax[body].astype(np.float64))
        np.testing.assert_allclose(image.data[body], expected, rtol=1e-5)
        assert not image.data[~body].any()
    assert ideal.noise_sigma == 0.0


def test_protocol_has_one_shared_image_and_the_default_times(subject):
    keys = sorted((im.role, im.time_ms) for im in subject.images)
    assert keys == sorted(DESCRIPTIONS)
    series = subject.mapping_input().map_series()
    assert [im.time_ms for im in series["T1rho"]] == list(TSL)
    assert [im.time_ms for im in series["T2"]] == list(TP)
    assert subject.mapping_input().kind == "prepared"
    assert all(im.geometry == subject.geometry for im in subject.images)


def test_background_noise_matches_requested_snr():
    snr = 20.0
    noisy = generate_subject(2, snr=snr, matrix=192)
    clean = generate_subject(2, snr=math.inf, matrix=192)
    shared = _by_key(clean)[("shared", 0.0)].data
    assert np.isclose(shared[clean.roi > 0].mean() / noisy.noise_sigma, snr, rtol=1e-6)
    # Background well away from the body is pure Rayleigh noise.
    far = np.stack([ndimage.distance_transform_edt(~m) > 10 for m in noisy.body_mask])
    sigma = noisy.noise_sigma
    for image in noisy.images:
        background = image.data[far].astype(np.float64)
        assert background.size > 50_000
        assert np.isclose(background.mean(), sigma * np.sqrt(np.pi / 2), rtol=0.02)
        assert np.isclose(background.std(), sigma * np.sqrt(2 - np.pi / 2), rtol=0.03)


# --- ROI, ranges and orientation -----------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 7, 11, 23])
def test_roi_is_clean_right_lobe_liver_in_shim_box(seed):
    s = generate_subject(seed)
    roi = s.roi.astype(bool)
    assert s.roi.dtype == np.uint8 and set(np.unique(s.roi)) <= {0, 1}
    assert ROI_VESSEL_MARGIN_MM >= 3.0
    assert roi.sum() >= 1000
    assert (s.labels[roi] == LABEL_IDS["liver"]).all()
    assert s.shim_box[roi].all()
    vessel_ids = [LABEL_IDS[n] for n in ("hepatic_vein", "portal_vein", "bile_duct",
                                         "inferior_vena_cava")]
    pixel = s.geometry.spacing[0]
    for k in range(roi.shape[0]):
        vessels = np.isin(s.labels[k], vessel_ids)
        if roi[k].any() and vessels.any():
            distance = ndimage.distance_transform_edt(~vessels, sampling=(pixel, pixel))
            assert distance[roi[k]].min() >= ROI_VESSEL_MARGIN_MM
    # Right lobe: on the patient's right of the IVC.
    ivc_col = _centroid(s.labels == LABEL_IDS["inferior_vena_cava"])[2]
    assert _centroid(roi)[2] < ivc_col
    low, high = LIVER_LITERATURE_RANGE_MS["T1rho"]
    assert low <= s.t1rho_ms[roi].min() and s.t1rho_ms[roi].max() <= high
    low, high = LIVER_LITERATURE_RANGE_MS["T2"]
    assert low <= s.t2_ms[roi].min() and s.t2_ms[roi].max() <= high


def test_orientation_is_hfs_lps(subject):
    liver = _centroid(subject.labels == LABEL_IDS["liver"])
    spleen = _centroid(subject.labels == LABEL_IDS["spleen"])
    spine = _centroid(subject.labels == LABEL_IDS["vertebra"])
    aorta = _centroid(subject.labels == LABEL_IDS["aorta"])
    ivc = _centroid(subject.labels == LABEL_IDS["inferior_vena_cava"])
    assert liver[2] < subject.geometry.size[0] / 2 < spleen[2]   # liver on image left
    assert spine[1] > liver[1]                                     # spine posterior
    assert aorta[2] > ivc[2]                                       # aorta on patient left
    # Anterior wall at the top: the body's first row is anterior of the liver.
    rows = np.nonzero(subject.body_mask.any(axis=(0, 2)))[0]
    assert rows[0] < liver[1] < rows[-1]
    assert subject.geometry.direction == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    centre = subject.geometry.ijk_to_lps() @ np.array(
        [*(np.array(subject.geometry.size) - 1) / 2.0, 1.0])
    np.testing.assert_allclose(centre[:3], 0.0, atol=1e-9)
    assert np.isclose(subject.geometry.spacing[0] * subject.geometry.size[0], 380.0)
    assert subject.geometry.spacing[2] == 8.0


# --- artifacts ----------------------------------------------------------------------------

def test_shim_artifact_only_outside_the_box():
    clean = generate_subject(5, snr=math.inf, shim_artifact=False, matrix=128)
    bad = generate_subject(5, snr=math.inf, shim_artifact=True, matrix=128)
    np.testing.assert_array_equal(clean.t1rho_ms, bad.t1rho_ms)   # truth unchanged
    np.testing.assert_array_equal(clean.shim_box, bad.shim_box)
    inside = bad.shim_box
    outside = bad.body_mask & ~bad.shim_box
    ideal, corrupted = _by_key(clean), _by_key(bad)
    for key, image in corrupted.items():
        np.testing.assert_array_equal(image.data[inside], ideal[key].data[inside])
        if key[0] == "shared":
            np.testing.assert_array_equal(image.data, ideal[key].data)
            continue
        reference = ideal[key].data[outside].astype(np.float64)
        deviation = np.abs(image.data[outside] - reference) / np.maximum(reference, 1e-6)
        assert np.mean(deviation > 0.05) > 0.05, key
    t2_long = np.abs(corrupted[("t2", 51.0)].data[outside] - ideal[("t2", 51.0)].data[outside])
    t2_short = np.abs(corrupted[("t2", 18.2)].data[outside] - ideal[("t2", 18.2)].data[outside])
    assert t2_long.mean() / ideal[("t2", 51.0)].data[outside].mean() > \
        t2_short.mean() / ideal[("t2", 18.2)].data[outside].mean()    # grows with time


def test_motion_moves_prepared_images_relative_to_each_other():
    still = generate_subject(6, snr=math.inf, shim_artifact=False, matrix=128)
    moved = generate_subject(6, snr=math.inf, shim_artifact=False, matrix=128, motion_mm=4.0)
    pixel = moved.geometry.spacing[0]
    centroids = []
    for key, image in _by_key(moved).items():
        reference = _by_key(still)[key].data
        shift = (_centroid(image.data)[1:] - _centroid(reference)[1:]) * pixel  # (row, col) mm
        motion = image.metadata["motion"]
        if key[0] == "shared":
            np.testing.assert_array_equal(image.data, reference)
            assert motion == {"dx_mm": 0.0, "dy_mm": 0.0, "rotation_deg": 0.0}
            continue
        assert not np.array_equal(image.data, reference)
        expected = np.array([motion["dy_mm"], motion["dx_mm"]])
        assert np.hypot(*expected) >= 2.0
        np.testing.assert_allclose(shift, expected, atol=1.0)
        centroids.append(tuple(np.round(shift, 1)))
    assert len(set(centroids)) == len(centroids)    # each image moved its own way


# --- writing -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    return generate_subject(8, matrix=96, n_slices=3, motion_mm=1.0)


def test_nifti_output_round_trips(small, tmp_path):
    folder = write_subject(small, tmp_path / "subject", fmt="nifti")
    images = sorted((folder / "images").glob("*.nii.gz"))
    assert len(images) == len(small.images)
    by_number = {im.metadata["series_number"]: im for im in small.images}
    for path in images:
        stem = path.name[: -len(".nii.gz")]
        sidecar = json.loads((path.parent / f"{stem}.json").read_text())
        image = by_number[sidecar["SeriesNumber"]]
        assert stem.startswith(f"{sidecar['SeriesNumber']}_")
        assert sidecar["SeriesDescription"] == DESCRIPTIONS[(image.role, image.time_ms)]
        assert sidecar["ProtocolName"] == sidecar["SeriesDescription"]
        assert sidecar["EchoTime"] == pytest.approx(0.0023)
        assert sidecar["Manufacturer"] == "Philips Medical Systems"
        assert sidecar["MagneticFieldStrength"] == 3
        assert sidecar["ScanningSequence"] == "GR"
        assert sidecar["RepetitionTime"] > 0
        spin_lock = image.time_ms / 1000 if image.role == "t1rho" else 0.0
        t2_prep = image.time_ms / 1000 if image.role == "t2" else 0.0
        assert sidecar["SpinLockTime"] == pytest.approx(spin_lock)
        assert sidecar["T2PrepTime"] == pytest.approx(t2_prep)
        read = sitk.ReadImage(str(path))
        assert Geometry.from_sitk(read).mismatch(small.geometry) is None
        np.testing.assert_array_equal(sitk.GetArrayFromImage(read), image.data)
    # Files are named by series number, which does not follow time.
    times = [by_number[int(p.name.split("_")[0])].time_ms for p in images]
    assert times != sorted(times)
    _check_ground_truth(small, folder / "ground_truth")


def _check_ground_truth(subject, folder: Path) -> None:
    expected = {"T1rho": subject.t1rho_ms, "T2": subject.t2_ms, "roi": subject.roi,
                "labels": subject.labels, "body_mask": subject.body_mask,
                "shim_box": subject.shim_box}
    for name, array in expected.items():
        read = sitk.ReadImage(str(folder / f"{name}.nii.gz"))
        assert Geometry.from_sitk(read).mismatch(subject.geometry) is None, name
        data = sitk.GetArrayFromImage(read)
        if name in ("T1rho", "T2"):
            # The file holds NaN outside the body; ITK's NIfTI reader turns NaN into 0.
            assert data.dtype == np.float32
            body = subject.body_mask
            np.testing.assert_array_equal(data[body], array[body], err_msg=name)
            assert (np.isnan(data[~body]) | (data[~body] == 0)).all()
            continue
        assert data.dtype == np.uint8, name
        np.testing.assert_array_equal(data, array.astype(data.dtype), err_msg=name)
    info = json.loads((folder / "phantom.json").read_text())
    assert info["seed"] == subject.seed and info["software_version"] == __version__
    assert info["noise_sigma"] == pytest.approx(subject.noise_sigma)
    assert info["snr"] == subject.snr
    assert info["label_names"]["4"] == "liver"
    assert {row["tissue"] for row in info["tissue_table"]} == set(TISSUES)
    assert len(info["images"]) == len(subject.images)


def test_dicom_output_round_trips(small, tmp_path):
    folder = write_subject(small, tmp_path / "subject", fmt="dicom")
    series_dirs = sorted(p for p in (folder / "images").iterdir() if p.is_dir())
    assert len(series_dirs) == len(small.images)
    by_number = {im.metadata["series_number"]: im for im in small.images}
    geometry = small.geometry
    studies, frames, series_uids, numbers, slopes = set(), set(), set(), set(), set()
    for series_dir in series_dirs:
        files = sorted(series_dir.iterdir())
        assert len(files) == geometry.size[2]
        for k, path in enumerate(files):
            with open(path, "rb") as handle:
                assert handle.read(132)[128:] == b"DICM"
            ds = pydicom.dcmread(path)
            assert ds.file_meta.MediaStorageSOPClassUID == pydicom.uid.MRImageStorage
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            image = by_number[int(ds.SeriesNumber)]
            assert ds.SeriesDescription == DESCRIPTIONS[(image.role, image.time_ms)]
            assert ds.ProtocolName == ds.SeriesDescription
            assert float(ds.EchoTime) == pytest.approx(2.3)
            assert float(ds.RepetitionTime) > 0
            assert ds.Manufacturer == "Philips Medical Systems"
            assert float(ds.MagneticFieldStrength) == 3.0
            assert ds.Modality == "MR" and ds.ScanningSequence == "GR"
            assert ds.PatientID == small.subject_id and ds.StudyDate and ds.SeriesTime
            assert int(ds.InstanceNumber) == k + 1
            position = geometry.ijk_to_lps() @ np.array([0.0, 0.0, k, 1.0])
            np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient],
                                       position[:3], atol=1e-4)
            np.testing.assert_allclose([float(v) for v in ds.ImageOrientationPatient],
                                       [1, 0, 0, 0, 1, 0], atol=1e-6)
            np.testing.assert_allclose([float(v) for v in ds.PixelSpacing],
                                       [geometry.spacing[1], geometry.spacing[0]])
            assert float(ds.SliceThickness) == float(ds.SpacingBetweenSlices) == 8.0
            assert ds.Rows == geometry.size[1] and ds.Columns == geometry.size[0]
            slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
            values = ds.pixel_array.astype(np.float64) * slope + intercept
            truth = image.data[k].astype(np.float64)
            scale = image.data.max()
            assert np.abs(values - truth).max() <= 0.5 * slope + 1e-6 * scale
            assert np.abs(values - truth).max() <= 1e-4 * scale
            studies.add(ds.StudyInstanceUID)
            frames.add(ds.FrameOfReferenceUID)
            series_uids.add(ds.SeriesInstanceUID)
            numbers.add(int(ds.SeriesNumber))
            slopes.add(slope)
    assert len(studies) == 1 and len(frames) == 1
    assert len(series_uids) == len(numbers) == len(small.images)
    assert len(slopes) == len(small.images)
    _check_ground_truth(small, folder / "ground_truth")


def test_dicom_uids_are_deterministic(small, tmp_path):
    first = write_subject(small, tmp_path / "a")
    second = write_subject(small, tmp_path / "b")
    for path in sorted((first / "images").rglob("IM_*")):
        twin = second / path.relative_to(first)
        assert pydicom.dcmread(path).SOPInstanceUID == pydicom.dcmread(twin).SOPInstanceUID


def test_write_refuses_non_empty_folder_and_bad_format(small, tmp_path):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something.txt").write_text("x")
    with pytest.raises(UserInputError, match="not empty"):
        write_subject(small, occupied, fmt="nifti")
    with pytest.raises(UserInputError, match="fmt"):
        write_subject(small, tmp_path / "new", fmt="png")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_subject(small, empty, fmt="nifti") == empty


# --- arguments, table, speed --------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "name"), [
    ({"snr": 0.0}, "snr"), ({"snr": -5.0}, "snr"), ({"snr": float("nan")}, "snr"),
    ({"matrix": 32}, "matrix"), ({"matrix": 100.5}, "matrix"), ({"n_slices": 0}, "n_slices"),
    ({"motion_mm": -1.0}, "motion_mm"), ({"tsl_ms": (0.0, -10.0)}, "tsl_ms"),
    ({"tp_ms": (0.0, 18.2, 18.2)}, "tp_ms"), ({"tsl_ms": (0.0,), "tp_ms": ()}, "tsl_ms"),
    ({"subject_id": "bad id/"}, "subject_id"), ({"seed": -1}, "seed"),
    ({"shim_artifact": "yes"}, "shim_artifact"),
])
def test_bad_arguments_raise_user_input_error(kwargs, name):
    seed = kwargs.pop("seed", 0)
    with pytest.raises(UserInputError) as caught:
        generate_subject(seed, **kwargs)
    message = str(caught.value)
    assert name in message and "\n" not in message


def test_tissue_table_covers_every_label_and_cites_sources():
    for value, (name, tissue) in LABELS.items():
        assert value == 0 or tissue in TISSUES, name
    for tissue in TISSUES.values():
        assert tissue.source
        for low, high in (tissue.t1rho_ms, tissue.t2_ms, tissue.proton_density):
            assert 0 < low <= high
    blood = TISSUES["venous_blood"].proton_density
    assert 0.03 <= blood[0] and blood[1] <= 0.05    # black blood: 3-5 % of liver


def test_generation_is_fast():
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        generate_subject(9)
        best = min(best, time.perf_counter() - start)
    assert best < 2.0
