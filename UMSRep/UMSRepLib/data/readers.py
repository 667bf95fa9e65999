"""Read one image of any supported format into a ``[z, y, x]`` array with its grid.

Supported: NIfTI (.nii, .nii.gz), NRRD (.nrrd), MetaImage (.mha, .mhd), PNG (.png,
grey or colour, colour averaged to grey), a DICOM file (.dcm) and a folder holding one
DICOM series. 2-D images become one slice. Geometry is in DICOM patient coordinates
(LPS) as SimpleITK reports it; PNG has none (unit spacing, identity direction).
Non-finite voxels are set to 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..errors import DatasetError

IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd", ".png", ".dcm")


@dataclass
class LoadedImage:
    """Voxels ``[z, y, x]`` (float32) and the grid: spacing (x, y, z) in mm, origin and
    the 3x3 direction matrix (columns: LPS directions of the i, j, k axes)."""

    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    has_geometry: bool
    source: str
    dimension: int = 3


def case_name(path: Path) -> str:
    """A file's case name: its name without the image suffix (``a.nii.gz`` -> ``a``)."""
    name = path.name
    for suffix in IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_image_entry(path: Path) -> bool:
    """Whether ``path`` is something :func:`read_image` reads (a DICOM folder counts)."""
    if path.name.startswith("."):
        return False
    if path.is_dir():
        return True
    return any(path.name.lower().endswith(suffix) for suffix in IMAGE_SUFFIXES)


def read_image(path: str | Path) -> LoadedImage:
    """Read ``path``; a problem is a one-line :class:`DatasetError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"image {path} does not exist")
    try:
        image = _read_dicom_series(path) if path.is_dir() else sitk.ReadImage(str(path))
    except DatasetError:
        raise
    except Exception as error:  # SimpleITK errors are long; keep the first line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DatasetError(f"cannot read image {path}: {first[:200]}") from None
    return _loaded(image, path)


def _read_dicom_series(folder: Path) -> sitk.Image:
    series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise DatasetError(f"folder {folder} holds no DICOM series")
    if len(series) > 1:
        raise DatasetError(f"folder {folder} holds {len(series)} DICOM series; put each series "
                           "in its own folder")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series[0]))
    return reader.Execute()


def _loaded(image: sitk.Image, path: Path) -> LoadedImage:
    array = sitk.GetArrayFromImage(image).astype(np.float32)
    dimension = image.GetDimension()
    if image.GetNumberOfComponentsPerPixel() > 1:
        array = array[..., :3].mean(axis=-1)  # RGB(A) -> grey
    if dimension == 2:
        array = array[np.newaxis]
    elif dimension != 3:
        raise DatasetError(f"image {path} has {dimension} dimensions; 2-D or 3-D expected")
    array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    spacing = list(image.GetSpacing()) + [1.0] * (3 - dimension)
    origin = list(image.GetOrigin()) + [0.0] * (3 - dimension)
    direction = np.eye(3)
    raw = np.array(image.GetDirection(), dtype=float).reshape(dimension, dimension)
    direction[:dimension, :dimension] = raw
    has_geometry = not path.name.lower().endswith(".png")
    return LoadedImage(array=array, spacing=tuple(float(s) for s in spacing),
                       origin=tuple(float(o) for o in origin), direction=direction,
                       has_geometry=has_geometry, source=str(path), dimension=dimension)


def write_like(array: np.ndarray, reference: LoadedImage, path: str | Path) -> Path:
    """Write ``array`` (``[k, j, i]``, the reference's voxel grid) with the reference's
    geometry; 2-D references give 2-D files. The format follows the suffix."""
    path = Path(path)
    data = np.ascontiguousarray(array)
    if data.dtype == bool:
        data = data.astype(np.uint8)
    if reference.dimension == 2:
        image = sitk.GetImageFromArray(data[0])
        image.SetSpacing(reference.spacing[:2])
        image.SetOrigin(reference.origin[:2])
        image.SetDirection(tuple(reference.direction[:2, :2].ravel()))
    else:
        image = sitk.GetImageFromArray(data)
        image.SetSpacing(reference.spacing)
        image.SetOrigin(reference.origin)
        image.SetDirection(tuple(reference.direction.ravel()))
    sitk.WriteImage(image, str(path), useCompression=True)
    return path
