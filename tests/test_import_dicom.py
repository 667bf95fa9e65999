"""DICOM folder import: phantom-style prepared sets, multi-echo, enhanced files, real CT.

Expectations come from what the fixture builders wrote (stored values, slopes, times) and
from SimpleITK's own DICOM series reader, never from the importer itself.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.importers import describe_input, load_input, read_dicom_series
from tests.dicom_fixtures import (
    PHANTOM_SERIES,
    oblique_orientation,
    physical_values,
    write_enhanced,
    write_phantom_folder,
    write_series,
)

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
CT_DICOM = DATA / "totalsegmentator-examples" / "example_ct_dicom"
needs_ct = pytest.mark.skipif(not CT_DICOM.is_dir(),
                              reason=f"real CT DICOM series not found at {CT_DICOM}")


def sitk_series(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def assert_same_grid(ours: Geometry, image: sitk.Image, atol: float = 1e-5) -> None:
    theirs = Geometry.from_sitk(image)
    assert ours.size == theirs.size
    np.testing.assert_allclose(ours.spacing, theirs.spacing, atol=atol)
    np.testing.assert_allclose(ours.origin, theirs.origin, atol=atol)
    np.testing.assert_allclose(ours.direction, theirs.direction, atol=atol)


def digest(folder: Path) -> dict[str, tuple[str, float]]:
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def phantom(tmp_path: Path):
    written = write_phantom_folder(tmp_path)
    return tmp_path, written


def test_phantom_times_roles_and_maps(phantom) -> None:
    root, _ = phantom
    loaded = load_input(root)
    assert loaded.kind == "prepared"
    expected = {(role, time_ms) for _, role, time_ms in PHANTOM_SERIES}
    assert {(im.role, im.time_ms) for im in loaded.images} == expected
    maps = loaded.map_series()
    assert [im.time_ms for im in maps["T1rho"]] == [0.0, 10.0, 30.0, 50.0]
    assert [im.time_ms for im in maps["T2"]] == [0.0, 18.2, 40.0, 60.0]
    shared = [im for im in loaded.images if im.role == "shared"]
    assert len(shared) == 1 and shared[0] in maps["T1rho"] and shared[0] in maps["T2"]
    assert loaded.echo_map is None


def test_phantom_reasons_name_the_description_and_reject_readout_te(phantom) -> None:
    root, _ = phantom
    loaded = load_input(root)
    by_time = {im.time_ms: im for im in loaded.images}
    assert "'TSL10ms'" in by_time[10.0].reason
    assert "'T2prep 18.2ms'" in by_time[18.2].reason
    assert "shared" in by_time[0.0].reason
    for image in loaded.images:
        assert "EchoTime 2.3 ms not used" in image.reason
        assert image.time_ms != 2.3


def test_phantom_values_follow_rescale_and_philips_formula(phantom) -> None:
    root, written = phantom
    loaded = load_input(root)
    for image in loaded.images:
        series = written[image.metadata["description"]]
        expected = physical_values(series, 2.3)
        np.testing.assert_allclose(image.data, expected, rtol=1e-5)
        assert image.data.dtype == np.float32
        if series.scale_slope:
            assert "FP = (PV*RS + RI)/(RS*SS)" in image.metadata["scaling"]


def test_philips_values_against_simpleitk_displayed_values(phantom) -> None:
    """SimpleITK applies only RS/RI; FP * RS * SS must give its displayed values back."""
    root, written = phantom
    loaded = load_input(root)
    checked = 0
    for image in loaded.images:
        series = written[image.metadata["description"]]
        reference = sitk_series(series.files[0].parent)
        assert_same_grid(image.geometry, reference)
        displayed = sitk.GetArrayFromImage(reference).astype(np.float64)
        factor = series.rescale_slope * np.float32(series.scale_slope or 1.0) \
            if series.scale_slope else 1.0
        np.testing.assert_allclose(image.data * factor, displayed, rtol=1e-5)
        checked += bool(series.scale_slope)
    assert checked == 3


def test_junk_files_dicomdir_and_localizer_are_skipped_with_notes(phantom) -> None:
    root, _ = phantom
    notes = "\n".join(load_input(root).notes)
    assert "README.txt" in notes and "notes.md" in notes
    assert "DICOMDIR" in notes
    assert "Survey" in notes


def test_input_files_are_not_modified(phantom) -> None:
    root, _ = phantom
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    before = digest(root)
    load_input(root)
    assert digest(root) == before


def test_describe_input_lists_times_roles_reasons_and_notes(phantom) -> None:
    root, _ = phantom
    text = describe_input(load_input(root))
    assert str(root) in text and "DICOM folder" in text
    assert "T1rho: 0, 10, 30, 50 ms" in text
    assert "T2: 0, 18.2, 40, 60 ms" in text
    assert "role shared, time 0 ms" in text
    assert "why:" in text and "TSL10ms" in text
    assert "Notes:" in text and "README.txt" in text


def test_oblique_series_geometry_and_values_match_simpleitk(tmp_path: Path) -> None:
    orientation = oblique_orientation(25.0)
    for number, (description, echo) in enumerate(
            (("ME_GRE", 3.0), ("ME_GRE", 6.0), ("ME_GRE", 9.0)), start=1):
        write_series(tmp_path / f"s{number}", description=description, number=number,
                     echo_times=(echo,), n_slices=5, rows=12, columns=9,
                     orientation=orientation, origin=(12.5, -40.0, 7.0), slice_gap=3.5,
                     rescale_slope=0.5, rescale_intercept=10.0, seed=number,
                     manufacturer="SIEMENS")
    loaded = load_input(tmp_path)
    assert loaded.kind == "multi-echo"
    assert [im.time_ms for im in loaded.map_series()["T2star"]] == [3.0, 6.0, 9.0]
    for number, image in enumerate(sorted(loaded.images, key=lambda im: im.time_ms), start=1):
        reference = sitk_series(tmp_path / f"s{number}")
        assert_same_grid(image.geometry, reference)
        np.testing.assert_allclose(image.data, sitk.GetArrayFromImage(reference), rtol=1e-6)
    direction = np.asarray(loaded.geometry.direction).reshape(3, 3)
    assert abs(direction[2, 2]) < 0.99  # really oblique


def test_read_dicom_series_matches_simpleitk_on_oblique(tmp_path: Path) -> None:
    written = write_series(tmp_path, description="x", number=1, n_slices=6, rows=8,
                           columns=11, orientation=oblique_orientation(-35.0),
                           rescale_slope=2.0, rescale_intercept=-5.0, seed=7)
    data, geometry = read_dicom_series(written.files)
    reference = sitk_series(tmp_path)
    assert_same_grid(geometry, reference)
    np.testing.assert_allclose(data, sitk.GetArrayFromImage(reference), rtol=1e-6)
    np.testing.assert_allclose(data, physical_values(written, 2.3), rtol=1e-6)


def test_multi_echo_within_one_series_gradient_echo(tmp_path: Path) -> None:
    written = write_series(tmp_path / "me", description="mFFE liver", number=5,
                           echo_times=(1.2, 3.4, 5.6, 7.8), n_slices=3,
                           scanning_sequence="GR", rescale_slope=1.5)
    loaded = load_input(tmp_path)
    assert loaded.kind == "multi-echo"
    assert loaded.echo_map == "T2star" and "GR" in loaded.echo_map_reason
    assert [im.time_ms for im in loaded.images] == [1.2, 3.4, 5.6, 7.8]
    assert all(im.role == "echo" for im in loaded.images)
    assert all("within one series" in im.reason for im in loaded.images)
    for image in loaded.images:
        np.testing.assert_allclose(image.data, physical_values(written, image.time_ms),
                                   rtol=1e-6)
    assert load_input(tmp_path, echo_map="T2").echo_map == "T2"
    assert "echo_map argument" in load_input(tmp_path, echo_map="t2").echo_map_reason


def test_multi_echo_as_separate_series_spin_echo(tmp_path: Path) -> None:
    for number, echo in enumerate((10.0, 20.0, 30.0), start=1):
        write_series(tmp_path / f"te{echo:g}", description="T2 map ME", number=number,
                     echo_times=(echo,), scanning_sequence="SE", seed=number)
    write_series(tmp_path / "other", description="T1 VIBE", number=9, echo_times=(2.0,))
    loaded = load_input(tmp_path)
    assert loaded.kind == "multi-echo" and loaded.echo_map == "T2"
    assert [im.time_ms for im in loaded.images] == [10.0, 20.0, 30.0]
    assert "differ only in echo time" in loaded.images[0].reason
    assert any("T1 VIBE" in note for note in loaded.notes)


def test_enhanced_multiframe_matches_expected_values_and_classic_twin(tmp_path: Path) -> None:
    echoes = (8.0, 16.0, 24.0)
    written = write_enhanced(tmp_path / "enh" / "frame.dcm", description="MultiEcho SE",
                             number=3, echo_times=echoes, rescale_slope=2.0)
    loaded = load_input(tmp_path / "enh")
    assert loaded.kind == "multi-echo"
    assert loaded.echo_map == "T2" and "EchoPulseSequence" in loaded.echo_map_reason
    assert [im.time_ms for im in loaded.images] == list(echoes)
    for image in loaded.images:
        np.testing.assert_allclose(image.data, physical_values(written, image.time_ms))
    single_file = load_input(written.files[0])
    assert [im.time_ms for im in single_file.images] == list(echoes)
    classic = write_series(tmp_path / "classic", description="x", number=1, echo_times=(8.0,),
                           n_slices=3, rows=12, columns=10, slice_gap=4.0,
                           origin=(-50.0, -40.0, 10.0), stored={8.0: written.stored[8.0]})
    _, geometry = read_dicom_series(classic.files)
    assert loaded.images[0].geometry.mismatch(geometry) is None


def test_rescale_slope_differs_between_series_without_philips_tag(tmp_path: Path) -> None:
    stored = np.full((2, 4, 4), 100, dtype=np.uint16)
    for number, (description, slope) in enumerate(
            (("T1rho TSL0", 1.0), ("T1rho TSL20", 3.0)), start=1):
        write_series(tmp_path / str(number), description=description, number=number,
                     n_slices=2, rows=4, columns=4, rescale_slope=slope,
                     manufacturer="GE MEDICAL SYSTEMS", stored={2.3: stored})
    loaded = load_input(tmp_path)
    means = {im.time_ms: float(im.data.mean()) for im in loaded.images}
    assert means == {0.0: 100.0, 20.0: 300.0}


def test_load_time_of_phantom_size_folder(tmp_path: Path) -> None:
    write_phantom_folder(tmp_path, rows=256, columns=256, n_slices=4, junk=False)
    load_input(tmp_path)  # warm imports and caches
    start = time.perf_counter()
    loaded = load_input(tmp_path)
    elapsed = time.perf_counter() - start
    assert len(loaded.images) == 7 and loaded.images[0].data.shape == (4, 256, 256)
    assert elapsed < 2.0, f"loading 7 x 4 x 256 x 256 took {elapsed:.2f} s"


def test_progress_bar_runs(phantom, capsys) -> None:
    root, _ = phantom
    assert len(load_input(root, progress=True).images) == 7


@needs_ct
def test_real_ct_series_matches_simpleitk_reader() -> None:
    files = sorted(CT_DICOM.iterdir())
    data, geometry = read_dicom_series(files)
    reference = sitk_series(CT_DICOM)
    assert_same_grid(geometry, reference)
    np.testing.assert_array_equal(data, sitk.GetArrayFromImage(reference).astype(np.float32))


@needs_ct
def test_real_ct_series_grid_matches_its_nifti_twin() -> None:
    """example_seg_dicom.nii.gz is the label volume on the CT series' grid (stored with a
    flipped y axis); example_ct_sm.nii.gz is a different, 3 mm CT and not its twin."""
    _, geometry = read_dicom_series(sorted(CT_DICOM.iterdir()))
    twin = sitk.ReadImage(str(CT_DICOM.parent / "example_seg_dicom.nii.gz"))
    assert_same_grid(geometry, sitk.DICOMOrient(twin, "LPS"), atol=1e-3)
    corners = geometry.ijk_to_lps() @ np.array([[0, 0, 0, 1], [511, 511, 19, 1]]).T
    twin_grid = Geometry.from_sitk(twin)
    twin_corners = twin_grid.ijk_to_lps() @ np.array([[0, 511, 0, 1], [511, 0, 19, 1]]).T
    np.testing.assert_allclose(corners, twin_corners, atol=1e-3)
    small = Geometry.from_sitk(sitk.ReadImage(str(CT_DICOM.parent / "example_ct_sm.nii.gz")))
    assert geometry.mismatch(small) is not None


@needs_ct
def test_real_ct_folder_through_load_input_is_one_time_point() -> None:
    with pytest.raises(UserInputError, match="only one time point") as caught:
        load_input(CT_DICOM)
    assert "\n" not in str(caught.value)
    assert "CT" in str(caught.value)


def test_readonly_open_on_readonly_folder(tmp_path: Path) -> None:
    write_phantom_folder(tmp_path, junk=False)
    for path in sorted(tmp_path.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        assert len(load_input(tmp_path).images) == 7
    finally:
        for path in tmp_path.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert os.access(tmp_path, os.W_OK)


def test_pixel_decoding_falls_back_to_simpleitk(tmp_path: Path, monkeypatch) -> None:
    """When pydicom cannot decode (no codec), GDCM via SimpleITK reads the pixels and the
    Philips floating-point conversion is still applied on top of its rescaled values."""
    from QMRIMappingLib.importers import dicom_volume

    written = write_series(tmp_path, description="x", number=1, rescale_slope=1.5,
                           rescale_intercept=0.0, scale_slope=0.004, seed=11)

    class NoCodec:
        @staticmethod
        def dcmread(*args, **kwargs):
            raise RuntimeError("no pixel data handler")

    monkeypatch.setattr(dicom_volume, "pydicom", NoCodec)
    data, _ = read_dicom_series(written.files)
    np.testing.assert_allclose(data, physical_values(written, 2.3), rtol=1e-5)
