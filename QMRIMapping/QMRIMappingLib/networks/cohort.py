"""Cohorts of slice samples: varied phantom training subjects, a fixed held-out test set,
and the user's own 4+4 protocol folders.

Training subjects use seeds ``seed, seed + 1, ...`` below :data:`TEST_SEED_START`; the
held-out test cohort always uses seeds from :data:`TEST_SEED_START` on, so no test
subject can ever appear in a training cohort. Each phantom seed already varies the
anatomy, the tissue values, the coil shading and the shim box; the builder also varies
SNR, motion and the B0 shim artifact per subject.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import UserInputError
from ..fitting import estimate_background_sigma, signal_mask
from ..importers import load_input
from ..phantom import generate_subject
from .samples import SliceSample, build_samples, mle_maps, protocol_stacks, samples_from_subject

#: First seed of the held-out test cohort; training seeds must stay below it.
TEST_SEED_START = 900_000
#: Stream tag of the per-subject draws (SNR, motion, shim) of a training cohort.
_DRAW_STREAM = 7


@dataclass
class Cohort:
    """Slice samples plus one record per subject (seed, SNR, motion, shim, source)."""

    samples: list[SliceSample]
    subjects: list[dict] = field(default_factory=list)


def build_cohort(n_subjects: int, seed: int = 0, *,
                 snr_range: tuple[float, float] = (20.0, 80.0),
                 motion_mm_range: tuple[float, float] = (0.0, 0.0),
                 shim_artifact_fraction: float = 0.5, matrix: int = 256, n_slices: int = 4,
                 mle_labels: bool = False, progress: bool = False) -> Cohort:
    """A training cohort of ``n_subjects`` phantom subjects with seeds seed, seed + 1, ...

    Per subject (drawn from a generator seeded by the subject's seed): SNR log-uniform in
    ``snr_range`` (equal bounds give a fixed SNR), motion amplitude uniform in
    ``motion_mm_range`` (mm; see ``phantom/motion.py``) and the shim artifact with
    probability ``shim_artifact_fraction``. ``mle_labels`` adds NLLS labels (slow).
    """
    _check_count(n_subjects)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0 \
            or seed + n_subjects > TEST_SEED_START:
        raise UserInputError(f"training seeds {seed}..{seed + n_subjects - 1} must lie in "
                             f"0..{TEST_SEED_START - 1}; seeds from {TEST_SEED_START} on are "
                             "the held-out test cohort")
    low_snr, high_snr = _range("snr_range", snr_range, positive=True)
    low_motion, high_motion = _range("motion_mm_range", motion_mm_range, positive=False)
    if not 0.0 <= shim_artifact_fraction <= 1.0:
        raise UserInputError(f"shim_artifact_fraction must lie in [0, 1] "
                             f"(got {shim_artifact_fraction!r})")
    settings = []
    for index in range(n_subjects):
        rng = np.random.default_rng([seed + index, _DRAW_STREAM])
        snr = math.exp(rng.uniform(math.log(low_snr), math.log(high_snr)))
        settings.append({"seed": seed + index, "snr": snr,
                         "motion_mm": float(rng.uniform(low_motion, high_motion)),
                         "shim_artifact": bool(rng.random() < shim_artifact_fraction),
                         "subject_id": f"train-{seed + index:06d}"})
    return _phantom_cohort(settings, matrix, n_slices, mle_labels, progress)


def held_out_cohort(n_subjects: int = 4, *, snr: float = 50.0, motion_mm: float = 0.0,
                    shim_artifact: bool = True, matrix: int = 256, n_slices: int = 4,
                    mle_labels: bool = False, progress: bool = False) -> Cohort:
    """The fixed held-out test cohort: seeds TEST_SEED_START, TEST_SEED_START + 1, ...

    Same arguments always give the same subjects, disjoint from any training cohort of
    :func:`build_cohort`.
    """
    _check_count(n_subjects)
    settings = [{"seed": TEST_SEED_START + index, "snr": float(snr), "motion_mm": motion_mm,
                 "shim_artifact": shim_artifact, "subject_id": f"test-{index:03d}"}
                for index in range(n_subjects)]
    return _phantom_cohort(settings, matrix, n_slices, mle_labels, progress)


def load_folder_cohort(path: str | Path, *, override_file: str | Path | None = None,
                       mask: np.ndarray | None = None, mle_labels: bool = False,
                       subject_id: str | None = None) -> Cohort:
    """Samples from the user's own 4+4 protocol folder (DICOM or NIfTI).

    Times and roles come from :func:`QMRIMappingLib.importers.load_input` (and the
    override file). The loss mask is ``mask`` (z, y, x) or, by default, the NLLS
    engine's automatic signal mask of the shared image. There is no ground truth (NaN);
    ``mle_labels`` adds the NLLS fit of the 4+4 images as labels.
    """
    mapping_input = load_input(path, override_file=override_file)
    stacks, times = protocol_stacks(mapping_input, str(path))
    shared = stacks["T1rho"][0]
    sigma, _ = estimate_background_sigma(shared)
    if mask is None:
        mask = signal_mask(shared, sigma)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != shared.shape:
        raise UserInputError(f"mask shape {mask.shape} does not match the images "
                             f"{shared.shape}")
    mle = mle_maps(stacks, times, mask, sigma) if mle_labels else None
    name = subject_id or Path(path).name
    samples = build_samples(name, stacks, times, mask, mle=mle,
                            noise_sigma=math.nan if sigma is None else sigma,
                            metadata={"source": str(path)})
    return Cohort(samples, [{"subject_id": name, "source": str(path),
                             "noise_sigma": sigma, "times_ms": times}])


def _phantom_cohort(settings: list[dict], matrix: int, n_slices: int, mle_labels: bool,
                    progress: bool) -> Cohort:
    samples = []
    for entry in tqdm(settings, desc="cohort", unit="subject",
                      disable=None if progress else True, leave=False):
        subject = generate_subject(entry["seed"], matrix=matrix, n_slices=n_slices,
                                   snr=entry["snr"], motion_mm=entry["motion_mm"],
                                   shim_artifact=entry["shim_artifact"],
                                   subject_id=entry["subject_id"])
        samples += samples_from_subject(subject, mle_labels=mle_labels)
        entry["noise_sigma"] = subject.noise_sigma
    return Cohort(samples, settings)


def _check_count(n_subjects: object) -> None:
    if isinstance(n_subjects, bool) or not isinstance(n_subjects, int) or n_subjects < 1:
        raise UserInputError(f"n_subjects must be a positive integer (got {n_subjects!r})")


def _range(name: str, value, positive: bool) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise UserInputError(f"{name} must be (low, high) (got {value!r})") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high
            and (low > 0 if positive else low >= 0)):
        kind = "0 < low <= high" if positive else "0 <= low <= high"
        raise UserInputError(f"{name} must satisfy {kind} (got {value!r})")
    return low, high
