"""``write_subject``: save a phantom subject as a scan folder plus its ground truth.

Layout::

    folder/
      images/         DICOM series (images/<SeriesNumber>/IM_0001 ...) or NIfTI + JSON
      ground_truth/   T1rho.nii.gz, T2.nii.gz, roi.nii.gz, labels.nii.gz,
                      body_mask.nii.gz, shim_box.nii.gz, phantom.json
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserInputError
from .dicom_writer import write_dicom_series
from .ground_truth import write_ground_truth
from .nifti_writer import write_nifti_images

FORMATS = ("dicom", "nifti")


def write_subject(subject, folder: Path | str, fmt: str = "dicom") -> Path:
    """Write ``subject`` into ``folder`` (created; must not exist or be empty).

    ``fmt`` is ``"dicom"`` or ``"nifti"``. Returns the folder.
    """
    if fmt not in FORMATS:
        raise UserInputError(f"fmt must be one of {', '.join(FORMATS)} (got {fmt!r})")
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UserInputError(f"folder {folder} already exists and is not empty; "
                             "choose a new folder")
    images_dir = folder / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "dicom":
        write_dicom_series(subject, images_dir)
    else:
        write_nifti_images(subject, images_dir)
    write_ground_truth(subject, folder / "ground_truth")
    return folder
