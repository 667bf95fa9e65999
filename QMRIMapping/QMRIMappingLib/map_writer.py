"""Write fitted maps as NIfTI files on the input grid, with names that say what they hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .errors import UserInputError
from .fitting import FitResult
from .geometry import Geometry
from .image_io import read_nifti_voxels

#: Suffix of each written file, the FitResult field it comes from, and its unit.
MAP_FILES = (
    ("", "t_ms", "ms"),
    ("_S0", "s0", "signal units"),
    ("_R2", "r2", "1"),
    ("_rms", "residual_rms", "signal units"),
    ("_sd", "sd_ms", "ms"),
    ("_sd_cov", "sd_cov_ms", "ms"),
    ("_status", "status", "code"),
    ("_offset", "offset", "signal units"),
    # network method, HETEU models only: the predicted Laplace scale of the residual
    ("_uncertainty", "uncertainty", "signal units"),
)


def write_map_files(result: FitResult, name: str, geometry: Geometry, folder: Path
                    ) -> dict[str, dict[str, str]]:
    """Write ``<name>.nii.gz`` and its companions; return {file: {field, unit}}."""
    written = {}
    for suffix, field, unit in MAP_FILES:
        values = getattr(result, field, None)
        if values is None:
            continue
        array = np.asarray(values)
        array = array.astype(np.uint8 if field == "status" else np.float32)
        file_name = f"{name}{suffix}.nii.gz"
        image = geometry.to_sitk(array.reshape(geometry.array_shape))
        sitk.WriteImage(image, str(folder / file_name), useCompression=True)
        written[file_name] = {"field": field, "unit": unit}
    return written


def read_reference_map(folder: Path, name: str, geometry: Geometry) -> tuple[np.ndarray, Path]:
    """Read ``<name>.nii.gz`` (or .nii/.nrrd) from a reference folder on the same grid."""
    for suffix in (".nii.gz", ".nii", ".nrrd"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            break
    else:
        raise UserInputError(
            f"reference folder {folder} has no {name}.nii.gz (or .nii/.nrrd); it must hold maps "
            "named like the outputs, in ms")
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:
        raise UserInputError(f"reference map {path} could not be read: {exc}".splitlines()[0]
                             ) from exc
    problem = geometry.mismatch(Geometry.from_sitk(reader))
    if problem:
        raise UserInputError(f"reference map {path} is on another grid ({problem}); "
                             "resample it onto the input images first")
    if path.name.endswith((".nii", ".nii.gz")):
        values = read_nifti_voxels(path)  # keeps NaN, which SimpleITK would turn into 0
    else:
        values = sitk.GetArrayFromImage(reader.Execute())
    return values.astype(np.float64).reshape(geometry.array_shape), path
