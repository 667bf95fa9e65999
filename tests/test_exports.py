"""Map and ROI exports: NRRD/NIfTI, .seg.nrrd (slicerio), DICOM Parametric Map and SEG."""

from __future__ import annotations

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
import slicerio

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.exports import (
    write_dicom_seg,
    write_map_image,
    write_parametric_map,
    write_seg_nrrd,
)
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.roi import read_roi

from .mrml_fixtures import dciodvfy_errors, oblique_geometry, phantom_dicom  # noqa: F401


def shared_series(folder) -> list:
    """Files of the phantom's shared zero-preparation series."""
    for series in sorted((folder / "images").iterdir()):
        first = pydicom.dcmread(next(series.iterdir()), stop_before_pixels=True)
        if "TSL0" in first.SeriesDescription:
            return sorted(series.iterdir())
    raise AssertionError("no shared series")


def frames_in_k_order(dataset, geometry: Geometry) -> np.ndarray:
    """Frames of a multi-frame object put back in slice order k by their own positions
    (highdicom may store them in another order; each frame says where it lies)."""
    inverse = np.linalg.inv(geometry.ijk_to_lps())
    slices = [int(round((inverse @ [*f.PlanePositionSequence[0].ImagePositionPatient, 1])[2]))
              for f in dataset.PerFrameFunctionalGroupsSequence]
    frames = np.asarray(dataset.pixel_array)
    ordered = np.empty_like(frames)
    ordered[slices] = frames
    assert sorted(slices) == list(range(geometry.size[2]))
    return ordered


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz"])
def test_map_image_keeps_grid_values_and_nan(tmp_path, suffix):
    geometry = oblique_geometry()
    values = np.linspace(10, 90, np.prod(geometry.array_shape)).reshape(geometry.array_shape)
    values[0, 0, 0] = np.nan
    path = write_map_image(values, geometry, tmp_path / f"T1rho{suffix}", "T1rho", "ms")
    image = sitk.ReadImage(str(path))
    assert geometry.mismatch(Geometry.from_sitk(image)) is None
    if suffix == ".nrrd":
        back = sitk.GetArrayFromImage(image)
        assert image.GetMetaData("unit") == "ms" and image.GetMetaData("quantity") == "T1rho"
    else:
        back = np.asanyarray(nib.load(str(path)).dataobj).transpose(2, 1, 0)
    assert np.isnan(back[0, 0, 0])
    assert np.allclose(back, values, equal_nan=True)
    with pytest.raises(UserInputError, match="must end in"):
        write_map_image(values, geometry, tmp_path / "T1rho.png")


def test_seg_nrrd_reads_back_with_slicerio_and_the_core(tmp_path):
    geometry = oblique_geometry((10, 8, 3))
    mask = np.zeros(geometry.array_shape, bool)
    mask[1, 2:6, 3:8] = True
    path = write_seg_nrrd(mask, geometry, tmp_path / "ROI.seg.nrrd")

    segmentation = slicerio.read_segmentation(str(path))
    assert slicerio.segment_names(segmentation) == ["Right lobe ROI"]
    voxels = slicerio.segment_mask(segmentation, "Right lobe ROI")
    assert np.array_equal(np.transpose(voxels, (2, 1, 0)).astype(bool), mask)
    assert np.allclose(segmentation["ijkToLPS"], geometry.ijk_to_lps())
    back, _ = read_roi(path, geometry)
    assert np.array_equal(back, mask)
    with pytest.raises(UserInputError, match="empty"):
        write_seg_nrrd(np.zeros_like(mask), geometry, tmp_path / "empty.seg.nrrd")


def test_parametric_map_validates_and_keeps_ms_values(tmp_path, phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    values = subject.t1rho_ms.astype(np.float32)
    path = write_parametric_map(values, subject.geometry, shared_series(folder),
                                tmp_path / "T1rho.pm.dcm", "T1rho", "NLLS", window=(20, 80))
    assert dciodvfy_errors(path) == []

    pm = hd.pm.ParametricMap.from_dataset(pydicom.dcmread(path))
    mapping = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert mapping.MeasurementUnitsCodeSequence[0].CodeValue == "ms"
    assert mapping.MeasurementUnitsCodeSequence[0].CodingSchemeDesignator == "UCUM"
    source = pydicom.dcmread(shared_series(folder)[0], stop_before_pixels=True)
    assert pm.StudyInstanceUID == source.StudyInstanceUID
    assert pm.FrameOfReferenceUID == source.FrameOfReferenceUID
    referenced = pm.ReferencedSeriesSequence[0].SeriesInstanceUID
    assert referenced == source.SeriesInstanceUID
    frames = frames_in_k_order(pm, subject.geometry).astype(np.float32)
    assert np.allclose(frames, values, equal_nan=True)
    shared = pm.SharedFunctionalGroupsSequence[0]
    direction = subject.geometry.direction_matrix
    assert np.allclose(shared.PlaneOrientationSequence[0].ImageOrientationPatient,
                       [*direction[:, 0], *direction[:, 1]], atol=1e-6)


def test_dicom_seg_validates_and_matches_the_mask(tmp_path, phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    path = write_dicom_seg(subject.roi > 0, subject.geometry, shared_series(folder),
                           tmp_path / "ROI.seg.dcm")
    assert dciodvfy_errors(path) == []
    seg = hd.seg.Segmentation.from_dataset(pydicom.dcmread(path))
    assert seg.SegmentSequence[0].SegmentLabel == "Right lobe ROI"
    assert np.array_equal(frames_in_k_order(seg, subject.geometry).astype(bool),
                          subject.roi > 0)


def test_dicom_exports_need_the_matching_source_series(tmp_path, phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    with pytest.raises(UserInputError, match="not loaded from DICOM"):
        write_parametric_map(subject.t2_ms, subject.geometry, [], tmp_path / "x.dcm", "T2",
                             "NLLS")
    other = oblique_geometry((5, 5, 2))
    with pytest.raises(UserInputError, match="source series has"):
        write_parametric_map(np.ones(other.array_shape), other, shared_series(folder),
                             tmp_path / "y.dcm", "T2", "NLLS")
