"""Training samples: one slice of the 4+4 protocol, normalised, with masks and labels.

A :class:`SliceSample` holds the seven distinct images of a slice (the shared
zero-preparation image counts in both the T1rho and the T2 series, so each task sees
4 images), their times, the mask the loss is averaged over, and label maps: phantom
ground truth and/or the NLLS (MLE) fit of all 4+4 images, NaN where unknown. It is
built from a phantom subject or from any :class:`MappingInput` of the protocol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserInputError
from ..fitting import FitOptions, fit_maps
from ..mapping_input import MappingInput
from ..phantom import PhantomSubject
from .config import DEFAULT_NORMALISATION, TASKS
from .normalisation import scales_from_config

#: Index of each task's 4 images in ``SliceSample.images`` (shared first).
SERIES_INDEX = {"T1rho": (0, 1, 2, 3), "T2": (0, 4, 5, 6)}
N_PREPARED = 3


@dataclass
class SliceSample:
    """One slice: ``images`` (7, H, W) float32 = shared, 3 T1rho-w, 3 T2-w (ascending).

    Images are divided by ``scale`` (``normalisation.py``); ``noise_sigma`` is in the
    same normalised units (NaN when unknown). ``prepared_times[task]`` are the 3 non-zero
    times in ms; ``gt``/``mle`` map a task to an (H, W) map in ms, NaN where unknown.
    """

    subject_id: str
    slice_index: int
    images: np.ndarray
    prepared_times: dict[str, tuple[float, ...]]
    mask: np.ndarray
    roi: np.ndarray
    gt: dict[str, np.ndarray]
    mle: dict[str, np.ndarray]
    scale: float
    noise_sigma: float
    metadata: dict = field(default_factory=dict)

    def series_times(self, task: str) -> np.ndarray:
        """The 4 times (ms) of ``task``'s series: 0 and the prepared times."""
        return np.array((0.0,) + tuple(self.prepared_times[task]), dtype=np.float32)

    def series(self, task: str) -> np.ndarray:
        """The (4, H, W) images of ``task``'s series."""
        return self.images[list(SERIES_INDEX[task])]

    def has_labels(self, kind: str) -> bool:
        """True when the ``gt`` or ``mle`` maps hold any finite value."""
        return any(np.isfinite(m).any() for m in getattr(self, kind).values())


def protocol_stacks(mapping_input: MappingInput, source: str
                    ) -> tuple[dict[str, np.ndarray], dict[str, tuple[float, ...]]]:
    """The (4, z, y, x) stack and 3 prepared times per task of a 4+4 protocol input.

    Raises UserInputError unless the input holds exactly one shared zero-preparation
    image, 3 T1rho-weighted and 3 T2-prepared images.
    """
    roles = [image.role for image in mapping_input.images]
    counts = {role: roles.count(role) for role in ("shared", "t1rho", "t2")}
    if mapping_input.kind != "prepared" or counts != {"shared": 1, "t1rho": 3, "t2": 3} \
            or len(roles) != 7:
        found = ", ".join(f"{n} {r}" for r, n in counts.items())
        raise UserInputError(
            f"{source}: the networks need the 4+4 protocol (1 shared zero-preparation, "
            f"3 T1rho-weighted and 3 T2-prepared images); found {found} "
            f"({mapping_input.kind} input)")
    series = mapping_input.map_series()
    stacks, times = {}, {}
    for task in TASKS:
        data, task_times = mapping_input.stack(series[task])
        if task_times[0] != 0.0:
            raise UserInputError(f"{source}: the shared image has time {task_times[0]:g} ms; "
                                 "it must be the zero-preparation image (0 ms)")
        stacks[task], times[task] = data, tuple(float(t) for t in task_times[1:])
    return stacks, times


def mle_maps(stacks: dict[str, np.ndarray], times: dict[str, tuple[float, ...]],
             mask: np.ndarray, sigma: float | None) -> dict[str, np.ndarray]:
    """NLLS (MLE) maps in ms from all 4 images of each task (the engine's fit_maps)."""
    series = {task: (stacks[task], (0.0,) + times[task]) for task in TASKS}
    options = FitOptions(sigma=sigma if sigma and math.isfinite(sigma) else None)
    results = fit_maps(series, mask, options)
    return {task: results[task].t_ms.astype(np.float32) for task in TASKS}


def build_samples(subject_id: str, stacks: dict[str, np.ndarray],
                  times: dict[str, tuple[float, ...]], mask: np.ndarray, *,
                  roi: np.ndarray | None = None, gt: dict[str, np.ndarray] | None = None,
                  mle: dict[str, np.ndarray] | None = None, noise_sigma: float = math.nan,
                  normalisation: dict | None = None, metadata: dict | None = None
                  ) -> list[SliceSample]:
    """Split (4, z, y, x) task stacks into normalised per-slice samples."""
    normalisation = normalisation or DEFAULT_NORMALISATION
    shared = stacks["T1rho"][0]
    volume = np.concatenate([shared[None], stacks["T1rho"][1:], stacks["T2"][1:]])
    scales = scales_from_config(shared, normalisation)
    nan = np.full(shared.shape, np.nan, dtype=np.float32)
    gt = {task: (gt or {}).get(task, nan) for task in TASKS}
    mle = {task: (mle or {}).get(task, nan) for task in TASKS}
    roi = np.zeros(shared.shape, dtype=bool) if roi is None else np.asarray(roi, dtype=bool)
    samples = []
    for k, scale in enumerate(scales):
        samples.append(SliceSample(
            subject_id=subject_id, slice_index=k,
            images=(volume[:, k] / scale).astype(np.float32),
            prepared_times={task: tuple(times[task]) for task in TASKS},
            mask=np.asarray(mask[k], dtype=bool), roi=roi[k],
            gt={task: np.asarray(gt[task][k], dtype=np.float32) for task in TASKS},
            mle={task: np.asarray(mle[task][k], dtype=np.float32) for task in TASKS},
            scale=float(scale), noise_sigma=float(noise_sigma) / float(scale),
            metadata=dict(metadata or {})))
    return samples


def samples_from_subject(subject: PhantomSubject, *, mle_labels: bool = False,
                         normalisation: dict | None = None) -> list[SliceSample]:
    """Per-slice samples of a phantom subject; the loss mask is the body mask.

    Ground truth is the phantom's true T1rho/T2 (NaN outside the body). With
    ``mle_labels`` the NLLS fit of the 4+4 images over the body is added (slow: ~2-10 s
    per subject on 2 CPU cores).
    """
    stacks, times = protocol_stacks(subject.mapping_input(), subject.subject_id)
    mle = mle_maps(stacks, times, subject.body_mask, subject.noise_sigma) if mle_labels else None
    gt = {"T1rho": subject.t1rho_ms.astype(np.float32), "T2": subject.t2_ms.astype(np.float32)}
    return build_samples(subject.subject_id, stacks, times, subject.body_mask,
                         roi=subject.roi > 0, gt=gt, mle=mle, noise_sigma=subject.noise_sigma,
                         normalisation=normalisation,
                         metadata={"seed": subject.seed, "snr": subject.snr,
                                   "motion_mm": subject.parameters["motion_mm"],
                                   "shim_artifact": subject.parameters["shim_artifact"]})
