"""Maps as NRRD or NIfTI files on the grid of the images they were fitted from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..errors import UserInputError
from ..geometry import Geometry

SUFFIXES = (".nrrd", ".nii.gz", ".nii")


def write_map_image(values: np.ndarray, geometry: Geometry, path: str | Path,
                    quantity: str = "", unit: str = "ms") -> Path:
    """Write a ``[k, j, i]`` map as ``.nrrd``, ``.nii`` or ``.nii.gz`` (by the suffix).

    Values are float32 with NaN kept where nothing was fitted (codes such as the status map
    keep their integer type). NRRD files also carry the quantity and unit as header fields.
    """
    path = Path(path)
    if not path.name.lower().endswith(SUFFIXES):
        raise UserInputError(f"{path} must end in {', '.join(SUFFIXES)}")
    array = np.asarray(values)
    if array.dtype.kind == "f" or array.dtype == bool:
        array = array.astype(np.float32)
    image = geometry.to_sitk(array.reshape(geometry.array_shape))
    if path.suffix.lower() == ".nrrd":
        if quantity:
            image.SetMetaData("quantity", quantity)
        if unit:
            image.SetMetaData("unit", unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)
    return path
