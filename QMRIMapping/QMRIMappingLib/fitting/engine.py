"""Voxel-wise relaxometry fit: weighted log-linear start, then bounded non-linear least squares.

This is the engine behind ``qmri fit --method nlls``: S(t) = S0·exp(−t/T) [+ C] fitted
over all voxels at once, in bounded-memory chunks, on the CPU or a CUDA device.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import UserInputError
from .levenberg_marquardt import levenberg_marquardt
from .loglinear import amplitude_given_rate, weighted_loglinear
from .noise import estimate_background_sigma
from .options import FitOptions
from .status import FitStatus
from .uncertainty import covariance_t_sd, cramer_rao_t_sd, fit_statistics
from .variable_projection import variable_projection


@dataclass
class FitResult:
    """Maps of one relaxation fit, each shaped like the input's spatial grid.

    ``t_ms`` is T in ms, NaN where no fit was possible. ``sd_crb_ms`` is the Cramér-Rao
    bound from σ, ``sd_cov_ms`` the residual-covariance estimate; ``sd_ms`` is the
    preferred one (CRB when σ is known). ``status`` holds :class:`FitStatus` codes.
    """

    t_ms: np.ndarray
    s0: np.ndarray
    r2: np.ndarray
    residual_rms: np.ndarray
    sd_crb_ms: np.ndarray
    sd_cov_ms: np.ndarray
    status: np.ndarray
    offset: np.ndarray | None
    sigma: float | None
    sigma_source: str
    iterations: int
    warnings: list[str] = field(default_factory=list)

    @property
    def sd_ms(self) -> np.ndarray:
        return self.sd_crb_ms if self.sigma is not None else self.sd_cov_ms

    @property
    def sd_kind(self) -> str:
        return "cramer-rao" if self.sigma is not None else "covariance"


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present; asking for CUDA without it is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserInputError(
            f"device '{name}' was requested but PyTorch sees no CUDA GPU; use --device cpu")
    return torch.device(name)


def check_times(times_ms: np.ndarray, n_images: int) -> np.ndarray:
    """Validate the weighting times of one fit (ms, distinct, at least two)."""
    times = np.asarray(times_ms, dtype=np.float64).ravel()
    if times.size != n_images:
        raise UserInputError(f"{times.size} times given for {n_images} images; give one per image")
    if times.size < 2:
        raise UserInputError("a relaxation fit needs at least 2 time points")
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise UserInputError(f"times {times.tolist()} must be finite and non-negative (ms)")
    if np.unique(times).size != times.size:
        raise UserInputError(f"times {times.tolist()} ms contain duplicates; each must differ")
    return times


def fit_relaxation(signal: np.ndarray, times_ms, mask: np.ndarray | None = None,
                   options: FitOptions | None = None, progress: bool = False) -> FitResult:
    """Fit S(t) = S0·exp(−t/T) [+ C] in every voxel of ``signal`` (n_times, *spatial).

    ``mask`` (spatial, bool) limits the fit; voxels outside it get status OUTSIDE_MASK
    and NaN. A point counts as valid when it is finite and positive; voxels with fewer
    valid points than parameters get TOO_FEW_VALID_POINTS.
    """
    return fit_maps({"T": (signal, times_ms)}, mask, options, progress)["T"]


def fit_maps(series: Mapping[str, tuple[np.ndarray, Sequence[float]]],
             mask: np.ndarray | None = None, options: FitOptions | None = None,
             progress: bool = False) -> dict[str, FitResult]:
    """Fit several maps of one grid (e.g. T1rho and T2) in shared batches.

    ``series`` maps a name to (signal (n_times, *spatial), times in ms). Maps with the
    same number of time points are solved together, one problem per voxel and map, with
    per-problem times; this halves the fixed cost per operation for a T1rho/T2 pair.
    """
    options = options or FitOptions()
    options.validate()
    prepared = {name: _prepare(name, signal, times, options)
                for name, (signal, times) in series.items()}
    spatial = next(iter(prepared.values())).signal.shape[1:]
    for item in prepared.values():
        if item.signal.shape[1:] != spatial:
            raise UserInputError(f"{item.name} images have shape {item.signal.shape[1:]}, "
                                 f"not {spatial} like the others")
    inside = np.ones(int(np.prod(spatial)), dtype=bool) if mask is None else (
        np.asarray(mask, dtype=bool).ravel())
    if inside.size != int(np.prod(spatial)):
        raise UserInputError(f"mask shape {np.shape(mask)} does not match image shape {spatial}")
    indices = np.flatnonzero(inside)
    device = resolve_device(options.device)

    groups: dict[tuple, list[_Prepared]] = {}
    for item in prepared.values():
        key = (item.times.size, item.sigma if options.noise_floor else None)
        groups.setdefault(key, []).append(item)
    outputs = {name: _allocate(inside.size, options.offset) for name in prepared}
    iterations = {name: 0 for name in prepared}
    per_chunk = max(1, options.chunk_voxels // max(len(g) for g in groups.values()))
    steps = [(group, start) for group in groups.values()
             for start in range(0, indices.size, per_chunk)]
    for group, start in tqdm(steps, desc="fitting", unit="chunk",
                             disable=None if progress else True,
                             leave=False):
        chunk = indices[start:start + per_chunk]
        exact = options.offset or options.noise_floor or options.double_precision
        dtype = torch.float64 if exact else torch.float32
        values = torch.cat([torch.as_tensor(item.flat[:, chunk], dtype=dtype) for item in group],
                           dim=1).to(device)
        times = torch.cat([torch.as_tensor(item.times, dtype=dtype).unsqueeze(1).expand(
            -1, chunk.size) for item in group], dim=1).to(device)
        model_sigma = group[0].sigma if options.noise_floor else None
        maps, used = _fit_chunk(values, times,
                                options, model_sigma, [item.sigma for item in group],
                                chunk.size)
        for position, item in enumerate(group):
            iterations[item.name] = max(iterations[item.name], used)
            part = slice(position * chunk.size, (position + 1) * chunk.size)
            for key, tensor in maps.items():
                outputs[item.name][key][chunk] = tensor[part].cpu().numpy()

    results = {}
    for name, item in prepared.items():
        arrays = outputs[name]
        arrays["status"][~inside] = FitStatus.OUTSIDE_MASK
        shaped = {key: array.reshape(spatial) for key, array in arrays.items()}
        results[name] = FitResult(
            t_ms=shaped["t_ms"], s0=shaped["s0"], r2=shaped["r2"],
            residual_rms=shaped["residual_rms"], sd_crb_ms=shaped["sd_crb_ms"],
            sd_cov_ms=shaped["sd_cov_ms"], status=shaped["status"],
            offset=shaped.get("offset"), sigma=item.sigma, sigma_source=item.sigma_source,
            iterations=iterations[name], warnings=item.warnings)
    return results


@dataclass
class _Prepared:
    name: str
    signal: np.ndarray
    flat: np.ndarray
    times: np.ndarray
    sigma: float | None
    sigma_source: str
    warnings: list[str]


def _prepare(name: str, signal: np.ndarray, times_ms, options: FitOptions) -> _Prepared:
    signal = np.asarray(signal)
    times = check_times(times_ms, signal.shape[0])
    messages = []
    if options.offset and times.size <= 4:
        message = (f"{name}: the offset model has 3 parameters but only {times.size} time "
                   "points; T and the offset are poorly separated and the result is noisy")
        warnings.warn(message, stacklevel=3)
        messages.append(message)
    sigma, sigma_source = _resolve_sigma(signal, times, options)
    if options.noise_floor and sigma is None:
        raise UserInputError(
            f"the noise-floor fit of {name} needs σ but it could not be estimated "
            f"({sigma_source}); give it with --sigma")
    return _Prepared(name, signal, signal.reshape(signal.shape[0], -1), times, sigma,
                     sigma_source, messages)


def _resolve_sigma(signal: np.ndarray, times: np.ndarray, options: FitOptions
                   ) -> tuple[float | None, str]:
    if options.sigma is not None:
        return float(options.sigma), "given by the user"
    least_weighted = signal[int(np.argmin(times))]
    if least_weighted.ndim < 2:
        return None, "no image plane to take a background from"
    return estimate_background_sigma(least_weighted)


def _allocate(n_voxels: int, offset: bool) -> dict[str, np.ndarray]:
    names = ["t_ms", "s0", "r2", "residual_rms", "sd_crb_ms", "sd_cov_ms"]
    if offset:
        names.append("offset")
    arrays = {name: np.full(n_voxels, np.nan, dtype=np.float32) for name in names}
    arrays["status"] = np.full(n_voxels, FitStatus.FAILED, dtype=np.uint8)
    return arrays


def _fit_chunk(values: torch.Tensor, times: torch.Tensor, options: FitOptions,
               model_sigma: float | None, sigmas: list[float | None], group_size: int
               ) -> tuple[dict[str, torch.Tensor], int]:
    """Fit a chunk laid out (n_times, N); ``sigmas`` holds σ per map block of the chunk."""
    low_t, high_t = options.t_bounds_ms
    rate_bounds = (1.0 / high_t, 1.0 / low_t)
    valid = torch.isfinite(values) & (values > 0)
    weight = valid.to(values.dtype)
    signal = torch.where(valid, values, torch.zeros_like(values))
    theta, t_ms, iterations = _solve(signal, times, valid, weight, options, model_sigma,
                                     rate_bounds)
    sigma_per_voxel = torch.tensor([float("nan") if s is None else s for s in sigmas],
                                   dtype=values.dtype, device=values.device
                                   ).repeat_interleave(group_size)
    maps = _summarise(signal, times, valid, weight, theta, t_ms, model_sigma,
                      sigma_per_voxel, options)
    return maps, iterations


def _solve(signal: torch.Tensor, times: torch.Tensor, valid: torch.Tensor,
           weight: torch.Tensor, options: FitOptions, model_sigma: float | None,
           rate_bounds: tuple[float, float]) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, int]:
    """Log-linear start, then variable projection (default model) or Levenberg-Marquardt.

    Returns the parameters, T in ms (float64, kept inside the bounds) and the iterations.
    """
    _, rate = weighted_loglinear(signal, times, valid)
    rate = torch.nan_to_num(rate, nan=1.0 / 50.0).clamp(*rate_bounds)
    if options.offset or model_sigma is not None:
        s0 = amplitude_given_rate(signal, times, weight, rate).clamp_min(0.0)
        theta0 = (s0, rate) + ((torch.zeros_like(s0),) if options.offset else ())
        result = levenberg_marquardt(signal, times, weight, theta0, rate_bounds, model_sigma,
                                     options.max_iterations, options.tolerance)
        theta, iterations = result.theta, result.iterations
    else:
        projection = variable_projection(signal, times, weight, rate, rate_bounds,
                                         options.max_iterations, options.tolerance)
        theta, iterations = (projection.s0, projection.rate), projection.iterations
    t_ms = (1.0 / theta[1].double()).clamp(*options.t_bounds_ms)
    return theta, t_ms, iterations


def _summarise(signal: torch.Tensor, times: torch.Tensor, valid: torch.Tensor,
               weight: torch.Tensor, theta: tuple[torch.Tensor, ...], t_ms: torch.Tensor,
               model_sigma: float | None, sigma_per_voxel: torch.Tensor,
               options: FitOptions) -> dict[str, torch.Tensor]:
    """The output maps of a chunk: T, S0, R², residual RMS, both SDs, status; NaN if unfit."""
    n_params = len(theta)
    n_valid = valid.sum(0)
    rate = theta[1]
    rss, factor = fit_statistics(signal, times, weight, theta, model_sigma)
    sd_cov = covariance_t_sd(rate, factor, rss, n_valid, n_params)
    sd_crb = cramer_rao_t_sd(rate, factor, sigma_per_voxel)
    count = n_valid.clamp_min(1).to(signal.dtype)
    mean = (signal * weight).sum(0) / count
    total = (weight * (signal - mean) ** 2).sum(0)

    low_t, high_t = options.t_bounds_ms
    finite = torch.isfinite(t_ms) & torch.isfinite(theta[0])
    # Relative tolerance of the float32 search: T within 1e-6 of a bound sits on it.
    at_bound = (t_ms <= low_t * (1 + 1e-6)) | (t_ms >= high_t * (1 - 1e-6))
    status = torch.full(rate.shape, int(FitStatus.FAILED), dtype=torch.uint8,
                        device=rate.device)
    status[finite] = int(FitStatus.FITTED)
    status[finite & at_bound] = int(FitStatus.BOUND_HIT)
    status[n_valid < n_params] = int(FitStatus.TOO_FEW_VALID_POINTS)
    keep = (status == FitStatus.FITTED) | (status == FitStatus.BOUND_HIT)
    maps = {"t_ms": t_ms.to(signal.dtype), "s0": theta[0], "r2": 1.0 - rss / total,
            "residual_rms": (rss / count).sqrt(), "sd_crb_ms": sd_crb, "sd_cov_ms": sd_cov}
    if options.offset:
        maps["offset"] = theta[2]
    nan = torch.full_like(rate, float("nan"))
    maps = {name: torch.where(keep, tensor, nan) for name, tensor in maps.items()}
    maps["status"] = status
    return maps
