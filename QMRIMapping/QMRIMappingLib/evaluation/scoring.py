"""Maps of every method on one test input, and their scores.

Methods are named as in the tables: "NLLS (4+4)" (all 8 images), "Two-point" (the
shared image and one weighted image per map, the same 3 images the networks see) and
network rows (one multi-task model, or one single-task model per map). The relative
mean absolute error (RMAE, %) is Huang et al.'s metric: 100·Σ|x − y| / Σ|y| over the
pixels of a region.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from MultiTaskLib.metrics import rmae

from ..mapping import compute_maps
from ..mapping_input import MappingInput
from ..networks.inference import predict_maps
from ..networks.models import MappingNetwork
from .subjects import input_arrays

TASKS = ("T1rho", "T2")
NLLS = "NLLS (4+4)"
TWO_POINT = "Two-point"
FILTERED = "Two-point, weighted Gaussian filter"


def nlls_maps(mapping_input: MappingInput, mask: np.ndarray) -> dict[str, np.ndarray]:
    """NLLS maps from all 4 images of each series (the paper's reference)."""
    outcomes = compute_maps(mapping_input, "nlls", mask=mask)
    return {task: outcomes[task].result.t_ms for task in TASKS}


def two_point_maps(mapping_input: MappingInput, mask: np.ndarray, pair: Sequence[float]
                   ) -> dict[str, np.ndarray]:
    """Closed-form two-point maps from the shared image and the images at ``pair``."""
    outcomes = compute_maps(mapping_input, "two-point", mask=mask,
                            two_point_times={"T1rho": pair[0], "T2": pair[1]})
    return {task: outcomes[task].result.t_ms for task in TASKS}


def filtered_two_point_maps(mapping_input: MappingInput, mask: np.ndarray,
                            pair: Sequence[float], sigma_px: float,
                            bounds_ms: tuple[float, float] = (5.0, 2000.0)
                            ) -> dict[str, np.ndarray]:
    """The residual networks' starting point without any learning: the two-point map
    smoothed by the I(t)^2-weighted Gaussian of ``networks.features`` (no network)."""
    import torch

    from ..networks.features import smoothed_log_time, two_point_log_time

    shared, t1rho, t2 = (torch.from_numpy(np.asarray(a, np.float32))[:, None]
                         for a in input_arrays(mapping_input, *pair))
    maps = {}
    for task, weighted, time_ms in (("T1rho", t1rho, pair[0]), ("T2", t2, pair[1])):
        log_t = two_point_log_time(shared, weighted, torch.tensor([float(time_ms)]),
                                   *bounds_ms)
        smooth = smoothed_log_time(log_t, weighted, sigma_px)
        maps[task] = np.where(mask, torch.exp(smooth)[:, 0].numpy(), np.nan).astype(np.float32)
    return maps


def network_maps(networks: Sequence[MappingNetwork], mapping_input: MappingInput,
                 mask: np.ndarray, pair: Sequence[float]) -> dict[str, np.ndarray]:
    """Maps of one multi-task network, or of single-task networks (one per map)."""
    arrays = input_arrays(mapping_input, *pair)
    maps = {}
    for network in networks:
        result = predict_maps(network, arrays, pair[0], pair[1], mask=mask, device="cpu")
        maps.update({task: result[task] for task in network.tasks})
    return maps


def score(maps: dict[str, np.ndarray], reference: dict[str, np.ndarray],
          region: np.ndarray) -> dict[str, float]:
    """RMAE (%) of each map against the reference in ``region``."""
    return {task: rmae(maps[task], reference[task], region) for task in TASKS}


def signed_bias(maps: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                region: np.ndarray) -> dict[str, float]:
    """Mean relative error (%) in ``region``: positive when the map reads high."""
    out = {}
    for task in TASKS:
        x, y = maps[task][region], reference[task][region]
        keep = np.isfinite(x) & np.isfinite(y) & (y != 0)
        out[task] = float(100.0 * np.mean((x[keep] - y[keep]) / y[keep])) if keep.any() \
            else float("nan")
    return out


def ground_truth(subject) -> dict[str, np.ndarray]:
    """The phantom's true maps."""
    return {"T1rho": subject.t1rho_ms, "T2": subject.t2_ms}


def mean_and_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample SD over subjects (SD 0 for one value)."""
    array = np.asarray(values, dtype=float)
    return float(np.mean(array)), float(np.std(array, ddof=1)) if array.size > 1 else 0.0
