"""Physics-informed input channels and the residual output of the mapping networks.

For a mono-exponential decay the shared image I0 and one weighted image I(t) give the
two-point estimate T2pt = t / ln(I0 / I(t)) in every pixel: unbiased but noisy (its
noise is what Huang et al.'s network learns to suppress by pooling spatially). With
``input_features: "two_point"`` the network gets, next to the images, one channel per
weighted image it reads,

    f = log(T2pt / 50 ms), clamped to the output bounds,

and with ``residual: true`` its output for a task is a correction to the two-point
estimate of that task's own contrast, applied before the bounded-output transform
(``heads.py``): z = z_net + logit(bounded position of T2pt). The output head starts at
zero, so an untrained network reproduces the two-point map and training only has to
learn the denoising. Both are options of the config, so a network of the paper's plain
form (images only, direct output) is still ``input_features: "images"``.

``residual_smoothing_px`` > 0 makes the residual's base a smoothed two-point map: a
normalised Gaussian convolution of log T2pt with weights I(t)^2 (a pixel's log-ratio
is about as uncertain as 1/I(t)), so dark vessels, ducts and background hardly leak into
the liver next to them. The untrained network then starts from that classical filtered
estimate and learns the corrections (edges, partial volume, bias); the evaluation
reports the filter alone as its own row so what the network adds stays visible.

This is a deviation from Huang et al. (whose network gets the raw images only), made
because the networks here are trained for minutes on 2 CPU cores rather than for hours
on a GPU; the training data, losses and weighting are unchanged.
"""

from __future__ import annotations

import math

import torch

FEATURE_MODES = ("images", "two_point")
#: Reference time of the feature: f = log(T / 50 ms) is O(1) for liver.
REFERENCE_MS = 50.0
_TINY = 1e-6


def two_point_log_time(shared: torch.Tensor, weighted: torch.Tensor, time_ms: torch.Tensor,
                       low_ms: float, high_ms: float) -> torch.Tensor:
    """log(T2pt) in ms per pixel, T2pt = t / ln(I0/I(t)) clamped to [low_ms, high_ms].

    ``shared``/``weighted`` (B, 1, H, W) in any common scale; ``time_ms`` (B,) or (1,).
    Pixels without decay (I(t) >= I0) or without signal get ``high_ms`` (or ``low_ms``
    for an extreme decay): the clamp keeps the channel finite everywhere.
    """
    ratio = shared.clamp(min=_TINY) / weighted.clamp(min=_TINY)
    rate = torch.log(ratio).clamp(min=time_ms.min().item() / high_ms * 0.5 + _TINY)
    log_t = torch.log(time_ms.reshape(-1, 1, 1, 1).to(shared.dtype)) - torch.log(rate)
    return log_t.clamp(math.log(low_ms), math.log(high_ms))


def logit_of_time(log_t: torch.Tensor, low_ms: float, high_ms: float,
                  margin: float = 1e-4) -> torch.Tensor:
    """The raw output z whose bounded transform (``heads.bounded_time``) gives exp(log_t)."""
    position = (log_t - math.log(low_ms)) / (math.log(high_ms) - math.log(low_ms))
    position = position.clamp(margin, 1.0 - margin)
    return torch.log(position) - torch.log1p(-position)


def smoothed_log_time(log_t: torch.Tensor, weighted: torch.Tensor, sigma_px: float
                      ) -> torch.Tensor:
    """Normalised Gaussian convolution of ``log_t`` (B, 1, H, W), weights ``weighted``^2.

    sum(g * w * log_t) / sum(g * w) with a separable Gaussian g of SD ``sigma_px``
    pixels (radius 3 SD); pixels with no weight nearby keep their own value.
    """
    if sigma_px <= 0:
        return log_t
    radius = max(1, int(math.ceil(3.0 * sigma_px)))
    offsets = torch.arange(-radius, radius + 1, dtype=log_t.dtype, device=log_t.device)
    taps = torch.exp(-0.5 * (offsets / sigma_px) ** 2)
    taps = taps / taps.sum()
    weight = weighted.clamp(min=0.0).square()
    stacked = torch.cat([weight * log_t, weight], dim=0)
    stacked = _blur(_blur(stacked, taps, -1), taps, -2)
    numerator, denominator = stacked.chunk(2, dim=0)
    fallback = denominator < 1e-8
    return torch.where(fallback, log_t, numerator / denominator.clamp(min=1e-8))


def _blur(values: torch.Tensor, taps: torch.Tensor, dim: int) -> torch.Tensor:
    """1-D convolution along ``dim`` (zero padding) as a sum of shifted copies: for a
    handful of taps on one channel this is several times faster on CPU than conv2d."""
    radius = (taps.numel() - 1) // 2
    size = values.shape[dim]
    pad = [0, 0, radius, radius] if dim == -2 else [radius, radius]
    padded = torch.nn.functional.pad(values, pad)
    out = taps[0] * padded.narrow(dim, 0, size)
    for k in range(1, taps.numel()):
        out.add_(padded.narrow(dim, k, size), alpha=float(taps[k]))
    return out
