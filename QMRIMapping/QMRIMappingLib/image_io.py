"""Read NIfTI voxel values exactly as stored, NaN included.

SimpleITK (ITK's NIfTI reader) turns NaN voxels into 0 on reading, which would hide bad
inputs and make "not fitted" look like "T = 0" in reference maps. Voxel values therefore
come from nibabel, while the geometry still comes from SimpleITK (LPS convention).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np


def read_nifti_voxels(path: str | Path) -> np.ndarray:
    """Voxel values of a NIfTI file as float32, axes reversed to SimpleITK's [t, z, y, x].

    The header's scl_slope/scl_inter scaling is applied.
    """
    image = nib.load(str(path))
    data = np.asanyarray(image.dataobj)
    data = np.transpose(data, tuple(reversed(range(data.ndim))))
    return np.ascontiguousarray(data, dtype=np.float32)
