"""The source series a derived DICOM object (Parametric Map, SEG) is built against.

A derived object inherits patient, study and frame of reference from its source images
and lists them in its references, so it files next to the series it came from in a PACS
or in Slicer's DICOM database. The source is one series of single- or multi-frame MR
images, read here without pixel data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from ..errors import UserInputError
from ..geometry import Geometry


def read_source_series(files: list[str | Path]) -> list[Dataset]:
    """Headers of one DICOM series (no pixels), sorted along the slice normal."""
    if not files:
        raise UserInputError("a DICOM export needs the source DICOM series of the images; "
                             "these images were not loaded from DICOM")
    datasets = []
    for file in files:
        try:
            datasets.append(pydicom.dcmread(str(file), stop_before_pixels=True))
        except (OSError, pydicom.errors.InvalidDicomError) as error:
            raise UserInputError(f"source DICOM file {file} cannot be read: {error}") from error
    series = {ds.SeriesInstanceUID for ds in datasets}
    if len(series) != 1:
        raise UserInputError(f"the source files belong to {len(series)} series; give one")
    return sorted(datasets, key=_slice_position)


def check_same_grid(datasets: list[Dataset], geometry: Geometry) -> None:
    """Refuse a source series whose slices do not match the map's grid (wrong series)."""
    frames = sum(int(ds.get("NumberOfFrames", 1) or 1) for ds in datasets)
    rows, columns = int(datasets[0].Rows), int(datasets[0].Columns)
    if (columns, rows, frames) != tuple(geometry.size):
        raise UserInputError(
            f"source series has {columns}x{rows}x{frames} voxels but the map has "
            f"{geometry.size[0]}x{geometry.size[1]}x{geometry.size[2]}; pick the series the "
            "map was fitted from")


def _slice_position(ds: Dataset) -> float:
    orientation = ds.get("ImageOrientationPatient")
    position = ds.get("ImagePositionPatient")
    if orientation is None or position is None:
        return float(ds.get("InstanceNumber", 0) or 0)
    normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
    return float(np.dot(normal, np.asarray(position, float)))
