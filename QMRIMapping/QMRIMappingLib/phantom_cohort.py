"""Write a cohort of phantom subjects into one folder, all or nothing."""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from .output_folder import staged_output
from .phantom import generate_subject, write_subject


def write_cohort(out_dir: str | Path, *, subjects: int = 1, fmt: str = "dicom", seed: int = 0,
                 snr: float = 50.0, matrix: int = 256, n_slices: int = 4,
                 motion_mm: float = 0.0, shim_artifact: bool = True, overwrite: bool = False,
                 progress: bool = False) -> list[Path]:
    """Write subjects ``sub-000``, ``sub-001``, … with seeds seed, seed+1, …

    Each subject folder holds ``images/`` and ``ground_truth/`` (see :func:`write_subject`).
    Returns the final subject folders.
    """
    names = [f"sub-{index:03d}" for index in range(subjects)]
    with staged_output(out_dir, overwrite) as staging:
        for index, name in enumerate(tqdm(names, desc="phantom", unit="subject",
                                          disable=None if progress else True)):
            subject = generate_subject(seed + index, matrix=matrix, n_slices=n_slices, snr=snr,
                                       shim_artifact=shim_artifact, motion_mm=motion_mm,
                                       subject_id=name)
            write_subject(subject, staging / name, fmt)
    return [Path(out_dir) / name for name in names]
