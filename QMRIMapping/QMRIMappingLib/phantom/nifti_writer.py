"""Write a phantom subject's weighted images as NIfTI with dcm2niix-style sidecars.

One ``.nii.gz`` per weighted image, named ``<SeriesNumber>_<description>`` with the
description sanitised the way converters do, plus a JSON sidecar of the same stem.
As dcm2niix writes them, times in the sidecar are in seconds: ``EchoTime`` is the readout
TE, and ``SpinLockTime`` / ``T2PrepTime`` carry the preparation times (0 where an image
has no such preparation; both 0 for the shared image).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import SimpleITK as sitk

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


def file_stem(image: WeightedImage) -> str:
    """``<SeriesNumber>_<description>`` with anything but letters, digits, '-' as '_'."""
    description = re.sub(r"[^A-Za-z0-9-]+", "_", image.metadata["series_description"])
    return f"{image.metadata['series_number']}_{description.strip('_')}"


def sidecar(image: WeightedImage) -> dict:
    """The JSON sidecar of one image (times in seconds)."""
    spin_lock = image.time_ms / 1000.0 if image.role == "t1rho" else 0.0
    t2_prep = image.time_ms / 1000.0 if image.role == "t2" else 0.0
    return {
        "Modality": "MR",
        "MagneticFieldStrength": FIELD_STRENGTH_T,
        "Manufacturer": MANUFACTURER,
        "ManufacturersModelName": MODEL,
        "SeriesDescription": image.metadata["series_description"],
        "ProtocolName": image.metadata["series_description"],
        "SeriesNumber": int(image.metadata["series_number"]),
        "ScanningSequence": "GR",
        "SequenceVariant": "SK_SP_MP",
        "MRAcquisitionType": "2D",
        "ImageType": ["ORIGINAL", "PRIMARY", "M", "FFE"],
        "SliceThickness": image.geometry.spacing[2],
        "EchoTime": READOUT_TE_MS / 1000.0,
        "RepetitionTime": READOUT_TR_MS / 1000.0,
        "FlipAngle": FLIP_ANGLE_DEG,
        "SpinLockTime": spin_lock,
        "T2PrepTime": t2_prep,
        "ConversionSoftware": "QMRIMappingLib.phantom",
        "ConversionSoftwareVersion": __version__,
    }


def write_nifti_images(subject, images_dir: Path) -> list[Path]:
    """Write every weighted image of ``subject``; returns the NIfTI paths."""
    images_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for image in subject.images:
        stem = file_stem(image)
        path = images_dir / f"{stem}.nii.gz"
        sitk.WriteImage(image.geometry.to_sitk(image.data), str(path), useCompression=True)
        (images_dir / f"{stem}.json").write_text(json.dumps(sidecar(image), indent=2) + "\n")
        paths.append(path)
    return paths
