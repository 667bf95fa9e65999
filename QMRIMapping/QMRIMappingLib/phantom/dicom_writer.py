"""Write a phantom subject's weighted images as Philips-like classic MR DICOM series.

One series per weighted image, one single-frame MR Image Storage file per slice, in
``images/<SeriesNumber>/IM_0001`` ... . The preparation time is only in the series
description and protocol name (as the scanner writes it for this WIP protocol);
EchoTime is the readout TE. Pixels are uint16 with a per-series RescaleSlope chosen from
the series maximum, so stored values reproduce the float data to within half a slope
step (about 1e-5 of the series maximum). UIDs are derived from the seed, the subject ID
and the generation parameters, so rewriting the same subject gives the same files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid
from pydicom.valuerep import format_number_as_ds

from .. import __version__
from ..mapping_input import WeightedImage
from .protocol import (
    FIELD_STRENGTH_T,
    FLIP_ANGLE_DEG,
    MANUFACTURER,
    MODEL,
    READOUT_TE_MS,
    READOUT_TR_MS,
)

#: Largest stored pixel value; the slope maps the series maximum onto it.
MAX_STORED = 65535
IMAGING_FREQUENCY_MHZ = 127.764


def write_dicom_series(subject, images_dir: Path) -> list[Path]:
    """Write every weighted image of ``subject`` as a series; returns the series folders."""
    ids = _Uids(subject)
    study_date = dt.date(2021, 1, 4) + dt.timedelta(days=subject.seed % 1000)
    folders = []
    for image in subject.images:
        number = int(image.metadata["series_number"])
        folder = images_dir / str(number)
        folder.mkdir(parents=True)
        _write_series(subject, image, folder, ids, study_date)
        folders.append(folder)
    return folders


def rescale_for(data: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) mapping ``data`` onto 0..MAX_STORED, as written to the header.

    The slope is rounded to what a DS string can hold before it is used, so decoding
    with the header values is exact up to the rounding of the pixels themselves.
    """
    low = min(float(np.nanmin(data)), 0.0)
    span = float(np.nanmax(data)) - low
    # A hair above span / MAX_STORED, so that DS rounding never pushes the top past it.
    slope = float(format_number_as_ds(span / MAX_STORED * (1.0 + 1e-9))) if span > 0 else 1.0
    intercept = float(format_number_as_ds(low)) if low < 0 else 0.0
    return slope, intercept


def _write_series(subject, image: WeightedImage, folder: Path, ids: _Uids,
                  study_date: dt.date) -> None:
    geometry = image.geometry
    number = int(image.metadata["series_number"])
    description = image.metadata["series_description"]
    slope, intercept = rescale_for(image.data)
    stored = np.clip(np.rint((image.data.astype(np.float64) - intercept) / slope), 0,
                     MAX_STORED).astype(np.uint16)
    matrix = geometry.ijk_to_lps()
    direction = geometry.direction_matrix
    orientation = [*direction[:, 0], *direction[:, 1]]
    series_time = _clock(9 * 3600 + 60 * (number // 100) * 2)
    series_uid = ids.uid("series", number)
    for k in range(stored.shape[0]):
        position = matrix @ np.array([0.0, 0.0, float(k), 1.0])
        ds = _base_dataset(ids.uid("instance", number, k))
        ds.PatientName = f"Phantom^{subject.subject_id}"
        ds.PatientID = subject.subject_id
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.PatientPosition = "HFS"
        ds.StudyInstanceUID = ids.uid("study")
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = ids.uid("frame")
        ds.StudyID = "1"
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "Liver T1rho T2 phantom"
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = \
            study_date.strftime("%Y%m%d")
        ds.StudyTime = _clock(9 * 3600)
        ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = series_time
        ds.Modality = "MR"
        ds.Manufacturer = MANUFACTURER
        ds.ManufacturerModelName = MODEL
        ds.SoftwareVersions = f"QMRIMappingLib phantom {__version__}"
        ds.InstitutionName = "Digital phantom"
        ds.MagneticFieldStrength = format_number_as_ds(FIELD_STRENGTH_T)
        ds.ImagingFrequency = format_number_as_ds(IMAGING_FREQUENCY_MHZ)
        ds.ImagedNucleus = "1H"
        ds.SeriesDescription = description
        ds.ProtocolName = description
        ds.SeriesNumber = number
        ds.AcquisitionNumber = 1
        ds.InstanceNumber = k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"]
        ds.ScanningSequence = "GR"
        ds.SequenceVariant = ["SK", "SP", "MP"]
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "2D"
        ds.EchoTime = format_number_as_ds(READOUT_TE_MS)
        ds.RepetitionTime = format_number_as_ds(READOUT_TR_MS)
        ds.FlipAngle = format_number_as_ds(FLIP_ANGLE_DEG)
        ds.EchoNumbers = 1
        ds.NumberOfAverages = 1
        ds.SliceThickness = format_number_as_ds(geometry.spacing[2])
        ds.SpacingBetweenSlices = format_number_as_ds(geometry.spacing[2])
        ds.PixelSpacing = [format_number_as_ds(geometry.spacing[1]),
                           format_number_as_ds(geometry.spacing[0])]
        ds.ImagePositionPatient = [format_number_as_ds(float(v)) for v in position[:3]]
        ds.ImageOrientationPatient = [format_number_as_ds(float(v)) for v in orientation]
        ds.SliceLocation = format_number_as_ds(float(position[2]))
        ds.Rows, ds.Columns = int(stored.shape[1]), int(stored.shape[2])
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.RescaleSlope = format_number_as_ds(slope)
        ds.RescaleIntercept = format_number_as_ds(intercept)
        ds.RescaleType = "US"
        centre = float(np.percentile(image.data, 99)) / 2.0
        ds.WindowCenter = format_number_as_ds(round(centre, 3))
        ds.WindowWidth = format_number_as_ds(round(max(2.0 * centre, 1.0), 3))
        ds.PixelData = np.ascontiguousarray(stored[k]).tobytes()
        ds.save_as(folder / f"IM_{k + 1:04d}", enforce_file_format=True)


def _base_dataset(sop_uid: str) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "QMRI_PHANTOM"
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.SpecificCharacterSet = "ISO_IR 100"
    return ds


def _clock(seconds: int) -> str:
    seconds %= 24 * 3600
    return f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"


class _Uids:
    """Deterministic UIDs for one subject written with one set of parameters."""

    def __init__(self, subject) -> None:
        params = json.dumps({"snr": subject.snr, **subject.parameters}, sort_keys=True,
                            default=str)
        digest = hashlib.sha256(params.encode()).hexdigest()[:16]
        self._base = ["QMRIMappingLib phantom", str(subject.seed), subject.subject_id, digest]

    def uid(self, *parts: object) -> str:
        return generate_uid(entropy_srcs=[*self._base, *map(str, parts)])
