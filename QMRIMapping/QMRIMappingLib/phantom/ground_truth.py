"""Write a subject's ground truth: NIfTI maps and masks plus ``phantom.json``.

The maps are the true tissue values in ms (float32, NaN outside the body; ITK-based
readers, Slicer among them, load those NaNs as 0, so use ``body_mask``); the ROI,
labels, body mask and shim box are uint8 label maps on the same grid as the images.
``phantom.json`` records how the subject was made (seed, SNR and noise sigma, times,
artifact settings, per-image motion, label names and the tissue values drawn) so a
result can always be traced back to its inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .. import __version__
from .motion import ROTATION_LEVER_MM
from .roi import ROI_EDGE_MARGIN_MM, ROI_VESSEL_MARGIN_MM
from .shim import SPIN_LOCK_HZ, T2PREP_UNREFOCUSED_FRACTION
from .tissues import tissue_table

SNR_DEFINITION = ("mean noise-free zero-preparation signal in roi.nii.gz divided by "
                  "noise_sigma, the standard deviation of the Gaussian noise in each "
                  "channel before taking the magnitude")


def write_ground_truth(subject, folder: Path) -> list[Path]:
    """Write the ground-truth files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    volumes = {
        "T1rho": subject.t1rho_ms.astype(np.float32),
        "T2": subject.t2_ms.astype(np.float32),
        "roi": subject.roi.astype(np.uint8),
        "labels": subject.labels.astype(np.uint8),
        "body_mask": subject.body_mask.astype(np.uint8),
        "shim_box": subject.shim_box.astype(np.uint8),
    }
    paths = []
    for name, array in volumes.items():
        path = folder / f"{name}.nii.gz"
        sitk.WriteImage(subject.geometry.to_sitk(array), str(path), useCompression=True)
        paths.append(path)
    path = folder / "phantom.json"
    path.write_text(json.dumps(description(subject), indent=2) + "\n")
    paths.append(path)
    return paths


def description(subject) -> dict:
    """Everything about how the subject was generated, as plain data."""
    return {
        "software": "QMRIMappingLib.phantom",
        "software_version": __version__,
        "subject_id": subject.subject_id,
        "seed": subject.seed,
        "snr": None if not np.isfinite(subject.snr) else subject.snr,
        "noise_free": not np.isfinite(subject.snr),
        "snr_definition": SNR_DEFINITION,
        "noise_sigma": subject.noise_sigma,
        "noise": "Rician: |S + n1 + i n2|, n1, n2 ~ N(0, noise_sigma^2)",
        "geometry": {"size": list(subject.geometry.size),
                     "spacing_mm": list(subject.geometry.spacing),
                     "origin_mm": list(subject.geometry.origin),
                     "direction": list(subject.geometry.direction), "frame": "LPS"},
        "parameters": subject.parameters,
        "artifact_model": {"spin_lock_hz": SPIN_LOCK_HZ,
                           "t2prep_unrefocused_fraction": T2PREP_UNREFOCUSED_FRACTION,
                           "enabled": bool(subject.parameters.get("shim_artifact", False))},
        "motion_rotation_lever_mm": ROTATION_LEVER_MM,
        "roi": {"vessel_margin_mm": ROI_VESSEL_MARGIN_MM,
                "edge_margin_mm": ROI_EDGE_MARGIN_MM,
                "voxels": int(subject.roi.sum())},
        "images": [{"role": im.role, "time_ms": im.time_ms,
                    "series_number": im.metadata["series_number"],
                    "series_description": im.metadata["series_description"],
                    "motion": im.metadata["motion"]} for im in subject.images],
        "label_names": {str(k): v for k, v in subject.label_names.items()},
        "tissue_values": subject.tissue_values,
        "tissue_table": tissue_table(),
    }
