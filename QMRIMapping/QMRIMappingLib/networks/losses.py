"""Training losses: the self-supervised relaxation constraint and supervised L1 labels.

Self-supervised relaxation constraint (Huang et al., arXiv 2303.07623, eqs. 3-5). For a
mono-exponential decay I(t) = I0·exp(-t/T), any two images of one series satisfy
I(t_i) = I(t_j)·exp((t_j - t_i)/T), so with a predicted map T̂ the per-pixel residual

    r(x) = Σ_{i≠j} | I_i(x) - I_j(x)·exp((t_j - t_i)/T̂(x)) |                     (3, 4)

summed over all ordered pairs of the task's images (shared image + its three prepared
images at training time, although the network only sees one of them) vanishes for the
true T. The task loss is its mean over the body mask,

    L_task = mean_{x in mask} r(x)                                                  (5)

in the normalised intensity scale of ``normalisation.py``. The heteroscedastic (HETEU)
form feeds r(x) with the predicted per-pixel log-scale s(x) to MultiTaskLib's Laplace
likelihood, mean_{mask} r/σ + log 2σ with σ = σ_min + exp(s).

``t2_loss_scale`` multiplies the T2 residual, which is what multiplying the T2-weighted
images by that factor does; Huang et al. use ×100 and ×10000 to test whether the
weighting copes with tasks of very different loss scales.

Supervised L1 (the SL baseline) with the label choices of Epstein et al., "Choice of
training label matters": "gt" (phantom ground truth), "mle" (NLLS fit of all 4+4
images) and "hybrid", α·L1(T̂, T_MLE) + (1 - α)·L1(T̂, T_GT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from MultiTaskLib.laplace import DEFAULT_MIN_SIGMA, laplace_nll

from .models import MappingOutput

LOSS_KINDS = ("self_supervised", "supervised")
LABEL_MODES = ("gt", "mle", "hybrid")


@dataclass(frozen=True)
class LossOptions:
    """How :func:`task_losses` turns a batch and a network output into per-task losses.

    ``label_scale_ms`` divides supervised L1 errors so both kinds of loss are O(1).
    """

    kind: str = "self_supervised"
    label_mode: str = "gt"
    hybrid_alpha: float = 0.5
    t2_loss_scale: float = 1.0
    min_sigma: float = DEFAULT_MIN_SIGMA
    label_scale_ms: float = 100.0

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise ValueError(f"loss kind {self.kind!r} is unknown; use one of {LOSS_KINDS}")
        if self.label_mode not in LABEL_MODES:
            raise ValueError(f"label mode {self.label_mode!r} is unknown; use one of "
                             f"{LABEL_MODES}")
        if not 0.0 <= self.hybrid_alpha <= 1.0:
            raise ValueError(f"hybrid_alpha must lie in [0, 1], got {self.hybrid_alpha}")
        if not self.t2_loss_scale > 0 or not self.label_scale_ms > 0:
            raise ValueError("t2_loss_scale and label_scale_ms must be positive")


def relaxation_residual(series: Tensor, times_ms: Tensor, t_ms: Tensor) -> Tensor:
    """Per-pixel residual r(x) of eqs. (3, 4), shape (B, 1, H, W).

    ``series`` (B, N, H, W) are the N images of one task (normalised), ``times_ms``
    (B, N) or (N,) their preparation times, ``t_ms`` (B, 1, H, W) the predicted T.
    Loops over the N(N-1) ordered pairs to keep memory at one image per term.
    """
    count = series.shape[1]
    times = times_ms.to(series.dtype)
    times = times.expand(series.shape[0], count) if times.ndim == 1 else times
    residual = torch.zeros_like(t_ms)
    for i in range(count):
        for j in range(count):
            if i == j:
                continue
            delta = (times[:, j] - times[:, i])[:, None, None, None]
            predicted = series[:, j:j + 1] * torch.exp(delta / t_ms)
            residual = residual + (series[:, i:i + 1] - predicted).abs()
    return residual


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over the pixels where ``mask`` is set (0 if none is set)."""
    keep = mask.to(torch.bool).expand_as(values)
    total = torch.where(keep, values, torch.zeros_like(values)).sum()
    return total / keep.sum().clamp(min=1).to(values.dtype)


def relaxation_loss(series: Tensor, times_ms: Tensor, t_ms: Tensor, mask: Tensor,
                    scale: float = 1.0) -> Tensor:
    """Scalar relaxation loss of eq. (5): ``scale`` × mean over ``mask`` of r(x)."""
    return masked_mean(scale * relaxation_residual(series, times_ms, t_ms), mask)


def heteroscedastic_relaxation_loss(series: Tensor, times_ms: Tensor, t_ms: Tensor,
                                    log_scale: Tensor, mask: Tensor, scale: float = 1.0,
                                    min_sigma: float = DEFAULT_MIN_SIGMA) -> Tensor:
    """Mean Laplace NLL of the per-pixel residual with a predicted log-scale (HETEU)."""
    residual = scale * relaxation_residual(series, times_ms, t_ms)
    return laplace_nll(residual, log_scale, min_sigma, mask=mask)


def supervised_l1(t_ms: Tensor, label_ms: Tensor, mask: Tensor,
                  scale_ms: float = 100.0) -> Tensor:
    """Mean |T̂ - label| / ``scale_ms`` over ``mask`` pixels whose label is finite.

    Raises ValueError when no pixel has a finite label (e.g. "mle" labels never computed).
    """
    valid = mask.to(torch.bool) & torch.isfinite(label_ms)
    if not bool(valid.any()):
        raise ValueError("no pixel of the batch has a finite label inside the mask; were "
                         "these labels computed (ground truth / mle_labels=True)?")
    error = (t_ms - torch.nan_to_num(label_ms)).abs() / scale_ms
    return masked_mean(error, valid)


def supervised_loss(t_ms: Tensor, gt_ms: Tensor | None, mle_ms: Tensor | None, mask: Tensor,
                    mode: str = "gt", alpha: float = 0.5, scale_ms: float = 100.0) -> Tensor:
    """L1 against the labels chosen by ``mode`` (Epstein et al.).

    "gt": L_GT; "mle": L_MLE; "hybrid": α·L_MLE + (1 - α)·L_GT.
    """
    if mode not in LABEL_MODES:
        raise ValueError(f"label mode {mode!r} is unknown; use one of {LABEL_MODES}")
    needed = {"gt": ("gt",), "mle": ("mle",), "hybrid": ("gt", "mle")}[mode]
    labels = {"gt": gt_ms, "mle": mle_ms}
    for name in needed:
        if labels[name] is None:
            raise ValueError(f"label mode {mode!r} needs {name} labels, which are missing")
    if mode == "gt":
        return supervised_l1(t_ms, gt_ms, mask, scale_ms)
    if mode == "mle":
        return supervised_l1(t_ms, mle_ms, mask, scale_ms)
    return (alpha * supervised_l1(t_ms, mle_ms, mask, scale_ms)
            + (1.0 - alpha) * supervised_l1(t_ms, gt_ms, mask, scale_ms))


def task_losses(output: MappingOutput, batch: Mapping, options: LossOptions | None = None
                ) -> dict[str, Tensor]:
    """``{task: scalar loss}`` for every task the network predicts.

    ``batch`` is a collated dataset batch (see ``dataset.py``): ``series[task]``
    (B, 4, H, W), ``times[task]`` (B, 4), ``mask`` (B, 1, H, W) and, for supervised
    training, ``gt[task]`` / ``mle[task]`` (B, 1, H, W, NaN where unknown). Combine the
    result with a MultiTaskLib weighting (fixed λa·La + λb·Lb, uncertainty, DWA).
    """
    options = options or LossOptions()
    mask = batch["mask"]
    losses = {}
    for task, t_ms in output.maps.items():
        scale = options.t2_loss_scale if task == "T2" else 1.0
        if options.kind == "supervised":
            if output.log_scales is not None:
                raise ValueError("HETEU log-scales model the relaxation residual; train "
                                 "HETEU with the self-supervised loss")
            losses[task] = scale * supervised_loss(
                t_ms, _label(batch, "gt", task), _label(batch, "mle", task), mask,
                options.label_mode, options.hybrid_alpha, options.label_scale_ms)
        elif output.log_scales is not None:
            losses[task] = heteroscedastic_relaxation_loss(
                batch["series"][task], batch["times"][task], t_ms, output.log_scales[task],
                mask, scale, options.min_sigma)
        else:
            losses[task] = relaxation_loss(batch["series"][task], batch["times"][task], t_ms,
                                           mask, scale)
    return losses


def _label(batch: Mapping, kind: str, task: str) -> Tensor | None:
    labels = batch.get(kind)
    return None if labels is None else labels.get(task)
