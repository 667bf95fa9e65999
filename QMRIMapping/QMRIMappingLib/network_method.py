"""The ``network`` mapping method: T1rho/T2 maps from 3 images with a trained network.

The network sees the same 3 images as the two-point method: the shared zero-preparation
image, one T1rho-weighted image and one T2-prepared image (by default the median later
time of each series, TSL 30 ms and TP 34.6 ms in Huang et al.'s protocol; choose others
with ``two_point_times`` / ``--two-point-times``). A single-task STSM model reads only
the shared image and its own contrast.

The result is a :class:`NetworkFitResult` so every writer, table and Slicer node of the
fitting methods works unchanged:

* ``t_ms``: the network's map (ms), NaN outside the mask;
* ``s0``: the shared zero-preparation image itself (S(0) = S0; nothing is fitted);
* ``r2``, ``residual_rms``, ``sd_*``: NaN (a network gives no fit residual);
* ``status``: FITTED inside the mask, OUTSIDE_MASK elsewhere;
* ``uncertainty``: for HETEU models the predicted per-pixel Laplace scale σ of the
  relaxation residual (signal units; written as ``<map>_uncertainty``), None for the
  other architectures (nothing is written; the card's ``uncertainty_output`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UserInputError
from .fitting import FitOptions, FitResult, FitStatus
from .mapping_input import MappingInput, WeightedImage


@dataclass
class NetworkFitResult(FitResult):
    """A :class:`FitResult` from a network, with its uncertainty map and model record."""

    uncertainty: np.ndarray | None = None
    model: dict = field(default_factory=dict)


def network_inputs(mapping_input: MappingInput, tasks: tuple[str, ...],
                   two_point_times: dict[str, float] | None
                   ) -> tuple[WeightedImage, dict[str, WeightedImage]]:
    """The shared image and the weighted image of each of ``tasks`` the network reads."""
    from .mapping import two_point_pair

    if mapping_input.kind != "prepared":
        raise UserInputError("the network method needs T1rho-prepared and T2-prepared images "
                             f"with a shared zero image, not a {mapping_input.kind} series")
    series = mapping_input.map_series()
    shared_images = [image for image in mapping_input.images if image.role == "shared"]
    if len(shared_images) != 1:
        raise UserInputError("the network method needs exactly one shared zero-preparation "
                             f"image (found {len(shared_images)})")
    chosen = {}
    for task in tasks:
        if task not in series:
            raise UserInputError(f"this model maps {task}, but the input has no {task} series")
        first, later = two_point_pair(task, series[task], (two_point_times or {}).get(task))
        if first.role != "shared":
            raise UserInputError(f"the {task} series must start with the shared zero image")
        chosen[task] = later
    return shared_images[0], chosen


def network_maps(mapping_input: MappingInput, model: str | None,
                 options: FitOptions | None = None, mask: np.ndarray | None = None,
                 two_point_times: dict[str, float] | None = None,
                 batch_slices: int = 8, allow_unverified: bool = False) -> dict:
    """Run an installed model (name) or a weights file on ``mapping_input``.

    Returns ``{map name: MapOutcome}`` like :func:`QMRIMappingLib.mapping.compute_maps`.
    Times outside the model's trained range are refused (UserInputError).
    """
    from .mapping import MapOutcome
    from .networks.inference import predict_maps
    from .networks.registry import load_verified

    options = options or FitOptions()
    network, info = load_verified(model, "cpu", allow_unverified=allow_unverified)
    uses = set(network.required_inputs)
    tasks = tuple(network.tasks)
    needed = tuple(t for t, role in (("T1rho", "t1rho"), ("T2", "t2")) if role in uses)
    shared, chosen = network_inputs(mapping_input, needed, two_point_times)
    tsl = chosen["T1rho"].time_ms if "T1rho" in chosen else None
    tp = chosen["T2"].time_ms if "T2" in chosen else None
    arrays = [shared.data, chosen["T1rho"].data if "T1rho" in chosen else None,
              chosen["T2"].data if "T2" in chosen else None]
    keep = np.ones(shared.data.shape, bool) if mask is None else np.asarray(mask, bool)
    predicted = predict_maps(network, arrays, tsl, tp, mask=keep, device=options.device,
                             batch_slices=batch_slices)
    images = [shared] + [chosen[t] for t in ("T1rho", "T2") if t in chosen]
    card = info["card"] or {}
    record = {"name": info["name"], "path": info["path"], "sha256": info["sha256"],
              "verified": info["verified"], "architecture": network.architecture,
              "label": card.get("label", network.architecture),
              "trained_pairs_ms": network.config["trained_pairs_ms"],
              "input_times_ms": {"TSL": tsl, "TP": tp},
              "input_images": [{"source": image.source, "role": image.role,
                                "time_ms": image.time_ms} for image in images],
              "device": predicted["device"],
              "uncertainty_output": card.get("uncertainty_output")}
    outcomes = {}
    for task in tasks:
        t_ms = predicted[task].reshape(shared.data.shape)
        status = np.where(keep, FitStatus.FITTED, FitStatus.OUTSIDE_MASK).astype(np.uint8)
        nan = np.full(shared.data.shape, np.nan, dtype=np.float32)
        scale = predicted.get(f"{task}_scale")
        result = NetworkFitResult(
            t_ms=t_ms.astype(np.float32),
            s0=np.where(keep, shared.data, np.nan).astype(np.float32),
            r2=nan, residual_rms=nan.copy(), sd_crb_ms=nan.copy(), sd_cov_ms=nan.copy(),
            status=status, offset=None, sigma=None,
            sigma_source="not used: the network method estimates no noise",
            iterations=0, warnings=[],
            uncertainty=None if scale is None else scale.reshape(shared.data.shape),
            model=record)
        # The map's own decay (shared + its weighted image); all 3 inputs are in ``model``.
        outcomes[task] = MapOutcome(task, result, [shared, chosen[task]])
    return outcomes
