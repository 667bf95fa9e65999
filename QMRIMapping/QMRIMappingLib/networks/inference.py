"""Maps from a trained network: pick the 3 input images, normalise, predict slice batches.

The network sees only three images of the 4+4 protocol: the shared zero-preparation
image, the T1rho-weighted image at ``tsl`` and the T2-weighted image at ``tp`` (an STSM
network only the shared image and its own contrast). The result says which images
were used, so a report can name them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from MultiTaskLib.laplace import DEFAULT_MIN_SIGMA

from ..errors import UserInputError
from ..fitting import estimate_background_sigma, resolve_device, signal_mask
from ..mapping_input import MappingInput, WeightedImage
from .config import TIME_INDEX, TIME_NAMES
from .models import INPUT_NAMES, MappingNetwork
from .normalisation import scales_from_config
from .time_range import TOLERANCE_MS, check_time_values


def predict_maps(model: MappingNetwork, source: MappingInput | Sequence[np.ndarray | None],
                 tsl: float | None, tp: float | None, *, mask: str | np.ndarray = "auto",
                 device: str = "auto", batch_slices: int = 8,
                 min_sigma: float = DEFAULT_MIN_SIGMA) -> dict:
    """Predict the model's maps for every slice of ``source``.

    ``source`` is a :class:`MappingInput` (the images at 0 ms, ``tsl`` and ``tp`` are
    picked from it) or a sequence (shared, T1rho-weighted, T2-weighted) of arrays shaped
    (z, y, x) or (y, x); an STSM network ignores (and accepts None for) the other
    contrast and its time. ``mask`` is "auto" (the NLLS engine's signal mask of the
    shared image), "none" or a boolean array. Times outside the model's trained range
    raise UserInputError. The model is moved to the device (CUDA for "auto" when
    present) and run in eval mode under ``torch.inference_mode``; its train/eval mode is
    restored afterwards.

    Returns ``{task: T in ms (float32, NaN outside the mask)}``, for HETEU also
    ``{task}_scale``: the predicted Laplace scale σ = σ_min + exp(s) of the task's
    relaxation residual, in the input's signal units; plus ``mask``, ``used_images``
    (one line per image read), ``input_times_ms`` and ``device``.
    """
    if batch_slices < 1:
        raise UserInputError(f"batch_slices must be at least 1 (got {batch_slices})")
    times = [tsl, tp]
    for task in model.checked_tasks:
        if times[TIME_INDEX[task]] is None:
            raise UserInputError(f"this {model.architecture} model needs the "
                                 f"{TIME_NAMES[task]} of its {task} input")
    check_time_values(model.config, model.checked_tasks,
                      [np.nan if t is None else float(t) for t in times])
    volumes, used = _select_inputs(model, source, tsl, tp)
    shared = volumes[0]
    keep = _mask(mask, shared)
    scales = scales_from_config(shared, model.config["normalisation"]).astype(np.float32)
    stack = np.stack([np.zeros_like(shared) if v is None else v for v in volumes], axis=1)
    stack = stack / scales[:, None, None, None]
    # An unused (None) time gets a trained value; the network ignores that column.
    default = model.config["trained_pairs_ms"][0]
    pair = [float(default[k]) if t is None else float(t) for k, t in enumerate(times)]
    target = resolve_device(device)
    outputs = _run(model, stack, pair, target, batch_slices, min_sigma)
    result = {}
    for name, values in outputs.items():
        if name.endswith("_scale"):
            values = values * scales[:, None, None]
        result[name] = np.where(keep, values, np.nan).astype(np.float32)
    result.update(mask=keep, used_images=used, input_times_ms=(tsl, tp), device=str(target))
    return {key: _squeeze(value, source) for key, value in result.items()}


def _run(model: MappingNetwork, stack: np.ndarray, pair: list[float], device: torch.device,
         batch_slices: int, min_sigma: float) -> dict[str, np.ndarray]:
    was_training = model.training
    model.to(device).eval()
    chunks: dict[str, list[np.ndarray]] = {}
    try:
        with torch.inference_mode():
            for start in range(0, stack.shape[0], batch_slices):
                images = torch.from_numpy(stack[start:start + batch_slices]).to(device)
                times = torch.tensor([pair], dtype=torch.float32, device=device)
                output = model(images, times.expand(images.shape[0], 2))
                pieces = dict(output.maps)
                scales = output.scales(min_sigma)
                if scales is not None:
                    pieces.update({f"{task}_scale": value for task, value in scales.items()})
                for name, value in pieces.items():
                    chunks.setdefault(name, []).append(value[:, 0].float().cpu().numpy())
    finally:
        model.train(was_training)
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def _select_inputs(model: MappingNetwork, source, tsl, tp
                   ) -> tuple[list[np.ndarray | None], list[str]]:
    """(shared, T1rho-w, T2-w) as float32 (z, y, x) arrays (None if unused) and a line each."""
    needed = model.required_inputs
    if isinstance(source, MappingInput):
        picked = [_pick(source, role, time) if role in needed else None
                  for role, time in zip(INPUT_NAMES, (0.0, tsl, tp), strict=True)]
        volumes = [None if image is None else np.asarray(image.data, dtype=np.float32)
                   for image in picked]
        used = [f"{image.role} {image.time_ms:g} ms: {image.source}"
                for image in picked if image is not None]
    else:
        arrays = list(source)
        if len(arrays) != 3:
            raise UserInputError("give the images as (shared, T1rho-weighted, T2-weighted) "
                                 f"arrays; got {len(arrays)}")
        volumes, used = [], []
        for role, time, array in zip(INPUT_NAMES, (0.0, tsl, tp), arrays, strict=True):
            if role not in needed:
                volumes.append(None)
                continue
            if array is None:
                raise UserInputError(f"the {role} image is missing; this "
                                     f"{model.architecture} model reads {', '.join(needed)}")
            volume = np.asarray(array, dtype=np.float32)
            volumes.append(volume[None] if volume.ndim == 2 else volume)
            used.append(f"{role} {time:g} ms: array input")
    shapes = {v.shape for v in volumes if v is not None}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3:
        raise UserInputError(f"the input images must share one 2-D or 3-D shape; got "
                             f"{sorted(shapes)}")
    return volumes, used


def _pick(source: MappingInput, role: str, time_ms: float) -> WeightedImage:
    candidates = [image for image in source.images if image.role == role]
    for image in candidates:
        if abs(image.time_ms - float(time_ms)) <= TOLERANCE_MS:
            return image
    available = ", ".join(f"{image.time_ms:g}" for image in candidates) or "none"
    raise UserInputError(f"{source.source}: no {role} image at {float(time_ms):g} ms "
                         f"(available: {available} ms)")


def _mask(mask: str | np.ndarray, shared: np.ndarray) -> np.ndarray:
    if isinstance(mask, str):
        if mask == "none":
            return np.ones(shared.shape, dtype=bool)
        if mask == "auto":
            sigma, _ = estimate_background_sigma(shared)
            return signal_mask(shared, sigma)
        raise UserInputError(f"mask {mask!r} is unknown: use auto, none or a boolean array")
    array = np.asarray(mask, dtype=bool)
    array = array[None] if array.ndim == 2 else array
    if array.shape != shared.shape:
        raise UserInputError(f"mask shape {array.shape} does not match the images "
                             f"{shared.shape}")
    return array


def _squeeze(value, source):
    """Give 2-D results for 2-D array input."""
    two_d = not isinstance(source, MappingInput) and any(
        a is not None and np.ndim(a) == 2 for a in source)
    if two_d and isinstance(value, np.ndarray) and value.ndim == 3:
        return value[0]
    return value
