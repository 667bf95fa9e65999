"""Small synthetic DICOM series for the importer tests, written with pydicom.

Each builder returns what it wrote (files, stored values, scaling, geometry inputs), so a
test can compute its expectation independently of the importer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
DICOMDIR_STORAGE = "1.2.840.10008.1.3.10"
PHILIPS_CREATOR = "Philips MR Imaging DD 001"

#: The phantom's Philips-style descriptions and times (role, time ms).
PHANTOM_SERIES = (
    ("WIP T1rho_T2prep TSL0 TP0 SENSE", "shared", 0.0),
    ("WIP T1rho_TSL10ms SENSE", "t1rho", 10.0),
    ("WIP T1rho_TSL30ms SENSE", "t1rho", 30.0),
    ("WIP T1rho_TSL50ms SENSE", "t1rho", 50.0),
    ("WIP T2prep 18.2ms SENSE", "t2", 18.2),
    ("WIP T2prep 40ms SENSE", "t2", 40.0),
    ("WIP T2prep 60ms SENSE", "t2", 60.0),
)


@dataclass
class WrittenSeries:
    """What a builder wrote: files and, per echo, the stored values ``[z, y, x]``."""

    uid: str
    number: int
    description: str
    files: list[Path] = field(default_factory=list)
    stored: dict[float, np.ndarray] = field(default_factory=dict)
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    scale_slope: float | None = None


def oblique_orientation(degrees: float = 20.0) -> tuple[float, ...]:
    """Row/column cosines of a plane tilted about two axes (an oblique slice)."""
    a, b = np.radians(degrees), np.radians(degrees / 2)
    rot_x = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rot_z = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    rotation = rot_z @ rot_x
    return tuple(float(v) for v in np.concatenate([rotation[:, 0], rotation[:, 1]]))


def base_dataset(sop_class: str, uid: str, number: int, description: str,
                 manufacturer: str, modality: str = "MR") -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.Manufacturer = manufacturer
    ds.PatientName = "Phantom^Liver"
    ds.PatientID = "PHANTOM"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SeriesInstanceUID = uid
    ds.SeriesNumber = number
    ds.SeriesDescription = description
    ds.ProtocolName = description
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.2"
    return ds


def write_series(folder: Path, *, description: str, number: int,
                 echo_times: tuple[float, ...] = (2.3,), n_slices: int = 4, rows: int = 16,
                 columns: int = 16, pixel_spacing: tuple[float, float] = (1.5, 1.25),
                 slice_gap: float = 5.0,
                 orientation: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
                 origin: tuple[float, float, float] = (-100.0, -80.0, 30.0),
                 rescale_slope: float = 1.0, rescale_intercept: float = 0.0,
                 scale_slope: float | None = None, manufacturer: str = "Philips Medical Systems",
                 scanning_sequence: str = "GR", modality: str = "MR",
                 trigger_time: float | None = None, image_type: tuple[str, ...] | None = None,
                 stored: dict[float, np.ndarray] | None = None, seed: int = 0,
                 uid: str | None = None, prefix: str = "IM") -> WrittenSeries:
    """Write one classic (one file per slice) MR series; file names are in random order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    uid = uid or generate_uid()
    series = WrittenSeries(uid, number, description, rescale_slope=rescale_slope,
                           rescale_intercept=rescale_intercept, scale_slope=scale_slope)
    row = np.asarray(orientation[:3])
    col = np.asarray(orientation[3:])
    normal = np.cross(row, col)
    jobs = []
    for echo_index, echo_time in enumerate(echo_times):
        values = (stored or {}).get(echo_time)
        if values is None:
            values = rng.integers(50, 3000, size=(n_slices, rows, columns)).astype(np.uint16)
        series.stored[echo_time] = values
        for k in range(n_slices):
            jobs.append((echo_index, echo_time, k))
    order = list(range(len(jobs)))
    random.Random(seed).shuffle(order)
    for file_index, job_index in enumerate(order):
        echo_index, echo_time, k = jobs[job_index]
        ds = base_dataset(MR_IMAGE_STORAGE, uid, number, description, manufacturer, modality)
        ds.ImageType = list(image_type or ("ORIGINAL", "PRIMARY", "M", "FFE"))
        ds.ScanningSequence = scanning_sequence
        ds.SequenceVariant = "SK"
        ds.EchoTime = f"{echo_time:g}"
        ds.EchoNumbers = echo_index + 1
        ds.RepetitionTime = "5.0"
        if trigger_time is not None:
            ds.TriggerTime = f"{trigger_time:g}"
        ds.InstanceNumber = file_index + 1
        ds.ImageOrientationPatient = [f"{v:.10g}" for v in orientation]
        position = np.asarray(origin) + k * slice_gap * normal
        ds.ImagePositionPatient = [f"{v:.10g}" for v in position]
        ds.PixelSpacing = [f"{pixel_spacing[0]:g}", f"{pixel_spacing[1]:g}"]
        ds.SliceThickness = f"{slice_gap:g}"
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope = f"{rescale_slope:g}"
        ds.RescaleIntercept = f"{rescale_intercept:g}"
        ds.RescaleType = "US"
        if scale_slope is not None:
            block = ds.private_block(0x2005, PHILIPS_CREATOR, create=True)
            block.add_new(0x0E, "FL", scale_slope)
        ds.PixelData = series.stored[echo_time][k].astype("<u2").tobytes()
        path = folder / f"{prefix}_{file_index:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        series.files.append(path)
    return series


def write_enhanced(path: Path, *, description: str, number: int, echo_times: tuple[float, ...],
                   n_slices: int = 3, rows: int = 12, columns: int = 10,
                   pixel_spacing: tuple[float, float] = (1.5, 1.25), slice_gap: float = 4.0,
                   orientation: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
                   origin: tuple[float, float, float] = (-50.0, -40.0, 10.0),
                   rescale_slope: float = 2.0, rescale_intercept: float = 0.0,
                   echo_pulse_sequence: str = "SPIN", seed: int = 3) -> WrittenSeries:
    """Write one enhanced multi-frame MR file: frames are echoes x slices in mixed order."""
    rng = np.random.default_rng(seed)
    uid = generate_uid()
    series = WrittenSeries(uid, number, description, rescale_slope=rescale_slope,
                           rescale_intercept=rescale_intercept)
    ds = base_dataset(ENHANCED_MR_STORAGE, uid, number, description, "Philips Medical Systems")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.EchoPulseSequence = echo_pulse_sequence
    ds.PulseSequenceName = "MultiEcho"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [f"{pixel_spacing[0]:g}", f"{pixel_spacing[1]:g}"]
    measures.SliceThickness = f"{slice_gap:g}"
    shared.PixelMeasuresSequence = Sequence([measures])
    plane = Dataset()
    plane.ImageOrientationPatient = [f"{v:.10g}" for v in orientation]
    shared.PlaneOrientationSequence = Sequence([plane])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))
    frames, pixels = [], []
    jobs = [(e, k) for e in range(len(echo_times)) for k in range(n_slices)]
    random.Random(seed).shuffle(jobs)
    for echo_time in echo_times:
        series.stored[echo_time] = rng.integers(10, 4000, size=(n_slices, rows, columns)
                                                ).astype(np.uint16)
    for echo_index, k in jobs:
        frame = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [f"{v:.10g}" for v in
                                         np.asarray(origin) + k * slice_gap * normal]
        frame.PlanePositionSequence = Sequence([position])
        echo = Dataset()
        echo.EffectiveEchoTime = float(echo_times[echo_index])
        frame.MREchoSequence = Sequence([echo])
        transform = Dataset()
        transform.RescaleSlope = f"{rescale_slope:g}"
        transform.RescaleIntercept = f"{rescale_intercept:g}"
        transform.RescaleType = "US"
        frame.PixelValueTransformationSequence = Sequence([transform])
        content = Dataset()
        content.InStackPositionNumber = k + 1
        frame.FrameContentSequence = Sequence([content])
        frames.append(frame)
        pixels.append(series.stored[echo_times[echo_index]][k])
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.NumberOfFrames = len(frames)
    ds.PixelData = np.stack(pixels).astype("<u2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    series.files.append(path)
    return series


def write_dicomdir_like(path: Path) -> None:
    """A DICOMDIR-style index file: valid DICOM, no image."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DICOMDIR_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "PHANTOM"
    ds.DirectoryRecordSequence = Sequence([])
    ds.save_as(path, enforce_file_format=True)


def write_localizer(folder: Path, number: int = 1) -> list[Path]:
    """A three-plane localizer in one series (three orientations, one slice each)."""
    uid = generate_uid()
    planes = ((1, 0, 0, 0, 1, 0), (0, 1, 0, 0, 0, -1), (1, 0, 0, 0, 0, -1))
    files = []
    for index, orientation in enumerate(planes):
        written = write_series(folder, description="Survey", number=number,
                               echo_times=(1.8,), n_slices=1, orientation=orientation,
                               image_type=("ORIGINAL", "PRIMARY", "M", "LOCALIZER"),
                               uid=uid, seed=100 + index, prefix=f"LOC{index}")
        files += written.files
    return files


def write_phantom_folder(root: Path, *, rows: int = 16, columns: int = 16, n_slices: int = 4,
                         nested: bool = True, junk: bool = True,
                         series: tuple = PHANTOM_SERIES) -> dict[str, WrittenSeries]:
    """A Philips-style T1rho/T2-prep phantom export, one series per time.

    Rescale slopes differ between series and every other series carries the private
    floating-point scale slope, so both scaling paths are exercised.
    """
    written = {}
    for index, (description, _, _) in enumerate(series):
        folder = root / "study" / f"series{index + 1:02d}" if nested else root
        written[description] = write_series(
            folder, description=description, number=(index + 1) * 100 + 1, rows=rows,
            columns=columns, n_slices=n_slices, rescale_slope=1.0 + 0.25 * index,
            rescale_intercept=0.0, scale_slope=(0.002 * (index + 1) if index % 2 else None),
            seed=index, prefix=f"S{index}")
    if junk:
        (root / "README.txt").write_text("exported by the phantom\n")
        (root / "study" / "notes.md").parent.mkdir(parents=True, exist_ok=True)
        (root / "study" / "notes.md").write_text("# notes\n")
        write_dicomdir_like(root / "DICOMDIR")
        write_localizer(root / "study" / "survey")
    return written


def physical_values(series: WrittenSeries, echo_time: float) -> np.ndarray:
    """The expected loaded values: displayed PV*RS+RI, or Philips FP = DV/(RS*SS)."""
    stored = series.stored[echo_time].astype(np.float64)
    displayed = stored * series.rescale_slope + series.rescale_intercept
    if series.scale_slope:
        return displayed / (series.rescale_slope * np.float64(np.float32(series.scale_slope)))
    return displayed
