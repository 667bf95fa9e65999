"""NIfTI import: dcm2niix folders (real ukat kidney data) and 4-D files with one sidecar.

Expected times are read from the JSON sidecars here with the json module, and expected
arrays/grids with SimpleITK, independently of the importer.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.importers import describe_input, load_input

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
UKAT_T2 = DATA / "ukat-t2-kidney-philips"
UKAT_T2STAR = DATA / "ukat-t2star-kidney-philips"
needs_t2 = pytest.mark.skipif(not UKAT_T2.is_dir(), reason=f"real data not found at {UKAT_T2}")
needs_t2star = pytest.mark.skipif(not UKAT_T2STAR.is_dir(),
                                  reason=f"real data not found at {UKAT_T2STAR}")

DIRECTION = (0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def sidecar_times_ms(folder: Path) -> dict[str, float]:
    """NIfTI file name -> EchoTime in ms, read straight from each sidecar."""
    times = {}
    for sidecar in folder.glob("*.json"):
        with open(sidecar) as handle:
            times[sidecar.name[:-5] + ".nii.gz"] = json.load(handle)["EchoTime"] * 1000.0
    return times


def write_nifti(path: Path, data: np.ndarray, sidecar: dict | None,
                direction: tuple[float, ...] = DIRECTION) -> None:
    image = sitk.GetImageFromArray(data.astype(np.float32), isVector=False)
    if data.ndim == 3:
        image.SetSpacing((1.5, 2.0, 4.0))
        image.SetOrigin((10.0, -20.0, 5.0))
        image.SetDirection(direction)
    sitk.WriteImage(image, str(path))
    if sidecar is not None:
        path.with_name(path.name.split(".nii")[0] + ".json").write_text(json.dumps(sidecar))


def write_4d(path: Path, volumes: np.ndarray, sidecar: dict) -> None:
    image = sitk.JoinSeries([_volume_image(v) for v in volumes])
    sitk.WriteImage(image, str(path))
    path.with_name(path.name.split(".nii")[0] + ".json").write_text(json.dumps(sidecar))


def _volume_image(array: np.ndarray) -> sitk.Image:
    image = sitk.GetImageFromArray(array.astype(np.float32))
    image.SetSpacing((1.5, 2.0, 4.0))
    image.SetOrigin((10.0, -20.0, 5.0))
    image.SetDirection(DIRECTION)
    return image


@needs_t2
def test_ukat_t2_folder_is_multi_echo_spin_echo_with_sidecar_times() -> None:
    expected = sidecar_times_ms(UKAT_T2)
    loaded = load_input(UKAT_T2)
    assert loaded.kind == "multi-echo"
    assert loaded.echo_map == "T2" and "SE" in loaded.echo_map_reason
    series = loaded.map_series()["T2"]
    assert len(series) == 10
    np.testing.assert_allclose([im.time_ms for im in series], sorted(expected.values()))
    np.testing.assert_allclose(series[0].time_ms, 12.9)
    np.testing.assert_allclose(series[-1].time_ms, 129.0)
    for image in series:
        name = Path(image.source).name
        assert image.time_ms == pytest.approx(expected[name])
        reference = sitk.ReadImage(str(UKAT_T2 / name))
        np.testing.assert_array_equal(image.data, sitk.GetArrayFromImage(reference))
        assert image.geometry.mismatch(Geometry.from_sitk(reference)) is None


@needs_t2
def test_ukat_file_order_is_not_time_order() -> None:
    """The trap the importer must avoid: e10/e11 sort before e3 by name."""
    expected = sidecar_times_ms(UKAT_T2)
    by_name = [expected[name] for name in sorted(expected)]
    assert by_name != sorted(by_name)
    loaded = load_input(UKAT_T2)
    assert [im.time_ms for im in loaded.images] == sorted(im.time_ms for im in loaded.images)


@needs_t2star
def test_ukat_t2star_folder_is_gradient_echo() -> None:
    expected = sidecar_times_ms(UKAT_T2STAR)
    loaded = load_input(UKAT_T2STAR)
    assert loaded.kind == "multi-echo" and loaded.echo_map == "T2star"
    assert "gradient echo" in loaded.echo_map_reason
    np.testing.assert_allclose([im.time_ms for im in loaded.map_series()["T2star"]],
                               sorted(expected.values()))
    assert load_input(UKAT_T2STAR, echo_map="T2").echo_map == "T2"


@needs_t2
def test_ukat_override_by_file_name(tmp_path: Path) -> None:
    overrides = tmp_path / "o.csv"
    overrides.write_text("series,time_ms,role\n"
                         "01501__Multi_echo_10_echos_180_RFP_e11.nii.gz,,skip\n")
    loaded = load_input(UKAT_T2, override_file=overrides)
    assert len(loaded.images) == 9 and max(im.time_ms for im in loaded.images) < 120


@needs_t2
def test_ukat_describe_mentions_sidecar_reason() -> None:
    text = describe_input(load_input(UKAT_T2))
    assert "NIfTI folder" in text and "EchoTime 0.0129 s" in text
    assert "T2: 12.9, 25.8, 38.7" in text and "Echo map: T2" in text


def test_prepared_folder_with_spin_lock_and_t2prep_sidecars(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {}
    entries = [("shared", {"SpinLockTime": 0.0, "T2PrepTime": 0.0}),
               ("tsl10", {"SpinLockTime": 0.01}), ("tsl40", {"SpinLockTime": 0.04}),
               ("tp20", {"T2PrepTime": 0.02}), ("tp50", {"T2PrepTime": 0.05})]
    for name, keys in entries:
        arrays[name] = rng.uniform(10, 100, (3, 4, 5))
        write_nifti(tmp_path / f"{name}.nii.gz", arrays[name], {**keys, "EchoTime": 0.0023})
    loaded = load_input(tmp_path)
    assert loaded.kind == "prepared"
    roles = {Path(im.source).name: (im.role, im.time_ms) for im in loaded.images}
    assert roles == {"shared.nii.gz": ("shared", 0.0), "tsl10.nii.gz": ("t1rho", 10.0),
                     "tsl40.nii.gz": ("t1rho", 40.0), "tp20.nii.gz": ("t2", 20.0),
                     "tp50.nii.gz": ("t2", 50.0)}
    assert [im.time_ms for im in loaded.map_series()["T2"]] == [0.0, 20.0, 50.0]
    for image in loaded.images:
        assert "EchoTime 2.3 ms not used" in image.reason
        np.testing.assert_allclose(image.data, arrays[Path(image.source).name[:-7]],
                                   rtol=1e-6)
    expected = Geometry(size=(5, 4, 3), spacing=(1.5, 2.0, 4.0), origin=(10.0, -20.0, 5.0),
                        direction=DIRECTION)
    assert loaded.geometry.mismatch(expected) is None


def test_nifti_description_in_sidecar_gives_time(tmp_path: Path) -> None:
    for name, description in (("a", "WIP T1rho_T2prep TSL0 TP0 SENSE"),
                              ("b", "WIP T1rho_TSL10ms SENSE"), ("c", "WIP T2prep 18.2ms SENSE")):
        write_nifti(tmp_path / f"{name}.nii", np.full((2, 3, 4), 50.0),
                    {"SeriesDescription": description, "EchoTime": 0.0023})
    loaded = load_input(tmp_path)
    assert {(im.role, im.time_ms) for im in loaded.images} == {
        ("shared", 0.0), ("t1rho", 10.0), ("t2", 18.2)}


def test_4d_multi_echo_file_and_folder(tmp_path: Path) -> None:
    volumes = np.stack([np.full((3, 4, 5), v) for v in (400.0, 300.0, 200.0, 100.0)])
    volumes += np.arange(60).reshape(3, 4, 5)
    path = tmp_path / "me.nii.gz"
    write_4d(path, volumes, {"EchoTime": [0.03, 0.01, 0.04, 0.02], "ScanningSequence": "GR"})
    for source in (path, tmp_path):
        loaded = load_input(source)
        assert loaded.kind == "multi-echo" and loaded.echo_map == "T2star"
        assert [im.time_ms for im in loaded.images] == [10.0, 20.0, 30.0, 40.0]
        for image, index in zip(loaded.images, (1, 3, 0, 2), strict=True):
            np.testing.assert_allclose(image.data, volumes[index])
        assert loaded.images[0].geometry.size == (5, 4, 3)
    assert "4-D NIfTI" in describe_input(load_input(tmp_path))


def test_4d_prepared_file_with_null_entries(tmp_path: Path) -> None:
    volumes = np.stack([np.full((2, 3, 4), 100.0 - 10 * i) for i in range(5)])
    path = tmp_path / "prep.nii.gz"
    write_4d(path, volumes, {"SpinLockTime": [0, 0.01, 0.03, None, None],
                             "T2PrepTime": [0, None, None, 0.02, 0.04]})
    loaded = load_input(path)
    assert [(im.role, im.time_ms) for im in loaded.images] == [
        ("shared", 0.0), ("t1rho", 10.0), ("t1rho", 30.0), ("t2", 20.0), ("t2", 40.0)]
    override = tmp_path / "o.csv"
    override.write_text("series,time_ms,role\nprep.nii.gz[4],45,t2\n")
    assert 45.0 in {im.time_ms for im in load_input(path, override_file=override).images}


def test_4d_list_length_must_match(tmp_path: Path) -> None:
    path = tmp_path / "me.nii.gz"
    write_4d(path, np.ones((3, 2, 2, 2)), {"EchoTime": [0.01, 0.02]})
    with pytest.raises(UserInputError, match="2 value.*3 volume"):
        load_input(path)
    write_4d(path, np.ones((3, 2, 2, 2)), {"EchoTime": 0.01})
    with pytest.raises(UserInputError, match="1 value.*3 volume"):
        load_input(path)


def test_sidecar_times_in_milliseconds_are_detected(tmp_path: Path) -> None:
    for index, echo in enumerate((12.9, 25.8)):
        write_nifti(tmp_path / f"e{index}.nii.gz", np.full((2, 2, 2), 10.0),
                    {"EchoTime": echo})
    with pytest.raises(UserInputError, match="e0.json.*12.9 looks like milliseconds"):
        load_input(tmp_path)


def test_nifti_without_sidecar_is_skipped_with_note(tmp_path: Path) -> None:
    for index, echo in enumerate((0.01, 0.02)):
        write_nifti(tmp_path / f"e{index}.nii.gz", np.full((2, 2, 2), 10.0),
                    {"EchoTime": echo, "ScanningSequence": "SE"})
    write_nifti(tmp_path / "mask.nii.gz", np.ones((2, 2, 2)), None)
    (tmp_path / "readme.txt").write_text("x")
    loaded = load_input(tmp_path)
    assert len(loaded.images) == 2
    notes = "\n".join(loaded.notes)
    assert "mask.nii.gz" in notes and "sidecar" in notes and "readme.txt" in notes


def test_no_usable_nifti(tmp_path: Path) -> None:
    write_nifti(tmp_path / "a.nii.gz", np.ones((2, 2, 2)), None)
    with pytest.raises(UserInputError, match="no usable images.*sidecar"):
        load_input(tmp_path)
    with pytest.raises(UserInputError, match="no JSON sidecar"):
        load_input(tmp_path / "a.nii.gz")


def test_single_3d_file_is_one_time_point(tmp_path: Path) -> None:
    write_nifti(tmp_path / "a.nii.gz", np.ones((2, 2, 2)), {"EchoTime": 0.01})
    with pytest.raises(UserInputError, match="only one time point"):
        load_input(tmp_path / "a.nii.gz")


def test_nifti_geometry_mismatch_names_both_files(tmp_path: Path) -> None:
    write_nifti(tmp_path / "a.nii.gz", np.ones((2, 2, 2)), {"EchoTime": 0.01})
    write_nifti(tmp_path / "b.nii.gz", np.ones((2, 2, 2)), {"EchoTime": 0.02},
                direction=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    with pytest.raises(UserInputError, match=r"b\.nii\.gz.*a\.nii\.gz.*orientation"):
        load_input(tmp_path)


def test_nifti_and_dicom_mixed_folder_is_refused(tmp_path: Path) -> None:
    from tests.dicom_fixtures import write_series

    write_nifti(tmp_path / "a.nii.gz", np.ones((2, 2, 2)), {"EchoTime": 0.01})
    write_series(tmp_path / "dcm", description="x", number=1, n_slices=1)
    with pytest.raises(UserInputError, match="both NIfTI and DICOM"):
        load_input(tmp_path)


def test_nifti_inputs_are_not_modified(tmp_path: Path) -> None:
    for index, echo in enumerate((0.01, 0.02, 0.03)):
        write_nifti(tmp_path / f"e{index}.nii.gz", np.full((2, 2, 2), 10.0 + index),
                    {"EchoTime": echo})
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    for path in tmp_path.iterdir():
        path.chmod(0o444)
    load_input(tmp_path)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()} == before
