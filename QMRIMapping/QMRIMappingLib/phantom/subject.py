"""Generate one phantom subject: anatomy, true maps, weighted images and their truth.

Every random choice comes from its own stream derived from the seed (anatomy, tissue
values, coil, shim, motion, noise, series order), so the same seed always gives the
same subject, and switching an option such as ``shim_artifact`` or ``motion_mm`` does
not change the anatomy or the noise of the other images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..geometry import Geometry
from ..mapping_input import MappingInput, WeightedImage
from . import validation as check
from .anatomy import build_anatomy
from .coil import coil_sensitivity
from .grid import make_grid
from .motion import RigidMotion, apply_motion, random_motion
from .properties import tissue_maps
from .protocol import acquisition_plan
from .roi import liver_roi
from .shim import off_resonance_hz, place_shim_box
from .signal import add_rician_noise, noise_free_signal
from .tissues import label_names

_STREAMS = ("anatomy", "tissues", "coil", "shim", "motion", "noise", "protocol")


@dataclass
class PhantomSubject:
    """A simulated subject: weighted images plus everything needed to score a fit.

    ``images`` hold roles ``shared``/``t1rho``/``t2`` with float32 ``[z, y, x]`` data.
    ``t1rho_ms`` and ``t2_ms`` are the true tissue values (NaN outside the body), not
    what an ideal fit would return where the shim artifact or motion corrupts the
    images. ``noise_sigma`` is the per-channel Gaussian sd; ``snr`` is the mean
    noise-free zero-preparation signal in ``roi`` divided by it.
    """

    subject_id: str
    seed: int
    geometry: Geometry
    images: list[WeightedImage]
    t1rho_ms: np.ndarray
    t2_ms: np.ndarray
    proton_density: np.ndarray
    coil: np.ndarray
    labels: np.ndarray
    label_names: dict[int, str]
    roi: np.ndarray
    body_mask: np.ndarray
    shim_box: np.ndarray
    noise_sigma: float
    snr: float
    off_resonance_hz: np.ndarray | None = None
    tissue_values: dict[str, dict[str, float]] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)

    def mapping_input(self) -> MappingInput:
        """The images as the fitter takes them (``kind="prepared"``)."""
        return MappingInput(
            images=list(self.images), kind="prepared", source=f"phantom:{self.subject_id}",
            notes=[f"digital liver phantom, seed {self.seed}, SNR {self.snr:g}, "
                   f"noise sigma {self.noise_sigma:.4g}"])


def generate_subject(seed: int = 0, *, matrix: int = 256, n_slices: int = 4,
                     snr: float = 50.0,
                     tsl_ms: tuple[float, ...] = (0.0, 10.0, 30.0, 50.0),
                     tp_ms: tuple[float, ...] = (0.0, 18.2, 34.6, 51.0),
                     shim_artifact: bool = True, motion_mm: float = 0.0,
                     subject_id: str | None = None) -> PhantomSubject:
    """Simulate one subject of the T1rho/T2 liver protocol.

    ``snr=float("inf")`` gives noise-free images. ``shim_artifact`` adds the B0 artifact
    outside the shim box (see ``shim.py``); ``motion_mm`` (> 0) moves every prepared
    image by its own small rigid in-plane motion. Raises UserInputError on bad arguments.
    """
    seed = check.check_seed(seed)
    matrix = check.check_int("matrix", matrix, 64, check.MAX_MATRIX)
    n_slices = check.check_int("n_slices", n_slices, 1, check.MAX_SLICES)
    snr = check.check_snr(snr)
    tsl = check.check_times("tsl_ms", tsl_ms)
    tp = check.check_times("tp_ms", tp_ms)
    check.check_protocol(tsl, tp)
    shim_artifact = check.check_flag("shim_artifact", shim_artifact)
    motion_mm = check.check_motion(motion_mm)
    subject_id = check.check_subject_id(subject_id, seed)

    rng = {name: np.random.default_rng([seed, i]) for i, name in enumerate(_STREAMS)}
    grid = make_grid(matrix, n_slices)
    anatomy = build_anatomy(grid, rng["anatomy"])
    labels = anatomy.labels
    body = labels > 0
    maps = tissue_maps(labels, grid, rng["tissues"])

    rows = np.nonzero(body.any(axis=(0, 2)))[0]
    half_depth = (grid.y_mm[rows[-1]] - grid.y_mm[rows[0]]) / 2.0
    coil = coil_sensitivity(grid, body, anatomy.body_centre_mm[1], half_depth, rng["coil"])

    box = place_shim_box(grid, anatomy.right_lobe, rng["shim"])
    shim_mask = box.mask(grid)
    off_res = off_resonance_hz(grid, box, rng["shim"]) if shim_artifact else None
    roi = liver_roi(labels, anatomy.right_lobe, shim_mask, grid)
    if not roi.any():
        raise RuntimeError(f"phantom seed {seed}: empty liver ROI (generator bug)")

    zero_prep = maps.proton_density.astype(np.float64) * coil
    sigma = float(zero_prep[roi > 0].mean() / snr)
    plan = acquisition_plan(tsl, tp, rng["protocol"])
    images = []
    for spec in plan:
        clean = noise_free_signal(maps.proton_density, coil, spec.role, spec.time_ms,
                                  maps.t1rho_ms, maps.t2_ms, off_res)
        motion = RigidMotion() if spec.role == "shared" else random_motion(rng["motion"],
                                                                           motion_mm)
        clean = apply_motion(clean, grid, motion, anatomy.body_centre_mm)
        data = add_rician_noise(clean, sigma, rng["noise"])
        images.append(WeightedImage(
            data=data, time_ms=spec.time_ms, role=spec.role,
            source=f"phantom:{subject_id}/series {spec.series_number}",
            geometry=grid.geometry,
            reason=f"phantom protocol: {spec.description!r} is a {spec.role} image "
                   f"at {spec.time_ms:g} ms",
            metadata={"series_description": spec.description,
                      "series_number": spec.series_number,
                      "motion": motion.as_dict()}))

    return PhantomSubject(
        subject_id=subject_id, seed=seed, geometry=grid.geometry, images=images,
        t1rho_ms=maps.t1rho_ms, t2_ms=maps.t2_ms, proton_density=maps.proton_density,
        coil=coil, labels=labels, label_names=label_names(), roi=roi, body_mask=body,
        shim_box=shim_mask, noise_sigma=sigma, snr=snr, off_resonance_hz=off_res,
        tissue_values=maps.values,
        parameters={"matrix": matrix, "n_slices": n_slices, "tsl_ms": list(tsl),
                    "tp_ms": list(tp), "shim_artifact": shim_artifact,
                    "motion_mm": motion_mm, "signal_scale": maps.signal_scale,
                    "shim_box_mm": box.as_dict()})
