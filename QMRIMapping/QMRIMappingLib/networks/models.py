"""The mapping networks: multi-task (baseline/HOMOU/HETEU) and single-task (STSM/ST) U-Nets.

Every network takes the same input so datasets and inference need not care which one
they feed:

* ``images`` (B, 3, H, W): the shared zero-preparation image, one T1rho-weighted image
  (spin-lock time TSL) and one T2-weighted image (preparation time TP), all divided by
  the same per-slice scale (``normalisation.py``);
* ``times`` (B, 2): (TSL, TP) in ms of those two weighted images.

Each network reads only the channels and times it was designed for (STSM: the shared
image and its own contrast; ST and the multi-task nets: all three), conditions on the
times with FiLM (``blocks.py``) and returns T in ms per task, bounded by the config
(``heads.py``). Huang et al. (arXiv 2303.07623) architectures:

* baseline / HOMOU: shared encoder and decoder, one bounded output channel per task;
  HOMOU's two learnable log-scales live in MultiTaskLib's ``UncertaintyWeighting``;
* HETEU: a second decoder of the same architecture on the shared encoder predicts a
  per-pixel log-scale per task (heteroscedastic Laplace likelihood);
* STSM: single task from the shared image and its own contrast (2 images);
* ST: single task from all three images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from MultiTaskLib.laplace import DEFAULT_MIN_SIGMA, sigma_from_log_scale

from .blocks import Decoder, Encoder, TimeEmbedding, level_channels
from .config import TIME_INDEX, validate_config
from .features import REFERENCE_MS, logit_of_time, smoothed_log_time, two_point_log_time
from .heads import bounded_log_scale, bounded_time
from .time_range import check_time_tensor

#: Input channel order of ``images``.
INPUT_NAMES = ("shared", "t1rho", "t2")
_OWN_CHANNEL = {"T1rho": 1, "T2": 2}


@dataclass
class MappingOutput:
    """Network output: ``maps[task]`` is T in ms (B, 1, H, W); HETEU adds ``log_scales``.

    ``log_scales[task]`` is the per-pixel log-scale s of the task's relaxation residual
    (normalised intensity units); the Laplace scale is σ = σ_min + exp(s), the
    parameterisation of MultiTaskLib.laplace.
    """

    maps: dict[str, torch.Tensor]
    log_scales: dict[str, torch.Tensor] | None = None

    def scales(self, min_sigma: float = DEFAULT_MIN_SIGMA) -> dict[str, torch.Tensor] | None:
        """Laplace scale maps σ = σ_min + exp(s), strictly positive; None unless HETEU."""
        if self.log_scales is None:
            return None
        return {task: sigma_from_log_scale(value, min_sigma)
                for task, value in self.log_scales.items()}


class MappingNetwork(nn.Module):
    """A FiLM-conditioned U-Net mapping (shared, T1rho-w, T2-w) images to T maps.

    Built from a validated config (see ``config.py``); use :func:`build_model`.
    """

    def __init__(self, config: dict) -> None:
        super().__init__()
        config = validate_config(config)
        self.config = config
        self.architecture: str = config["architecture"]
        self.tasks: tuple[str, ...] = tuple(config["tasks"])
        if self.architecture == "stsm":
            task = self.tasks[0]
            channels_in, times_in = [0, _OWN_CHANNEL[task]], [TIME_INDEX[task]]
        else:
            channels_in, times_in = [0, 1, 2], [0, 1]
        self.input_channels: tuple[int, ...] = tuple(channels_in)
        self.time_columns: tuple[int, ...] = tuple(times_in)
        self.checked_tasks: tuple[str, ...] = tuple(
            task for task, column in TIME_INDEX.items() if column in times_in)
        features = config["film_features"]
        channels = level_channels(config["base_channels"], config["levels"])
        self.multiple = 2 ** (config["levels"] - 1)
        # two-point feature channels: one per weighted image read (features.py)
        self.feature_tasks: tuple[str, ...] = (
            self.checked_tasks if config["input_features"] == "two_point" else ())
        self.residual: bool = bool(config["residual"])
        self.embedding = TimeEmbedding(len(times_in), features)
        self.encoder = Encoder(len(channels_in) + len(self.feature_tasks), channels, features,
                               config["norm"])
        self.decoder = Decoder(channels, len(self.tasks), features, config["norm"])
        self.scale_decoder = (Decoder(channels, len(self.tasks), features, config["norm"])
                              if self.architecture == "heteu" else None)
        if self.residual:  # start exactly at the two-point estimate
            nn.init.zeros_(self.decoder.head.weight)
            nn.init.zeros_(self.decoder.head.bias)
        # channels-last convolutions are ~1.5x faster on CPU (oneDNN) and fine on CUDA.
        self.to(memory_format=torch.channels_last)

    @property
    def required_inputs(self) -> tuple[str, ...]:
        """Names of the input images this network reads ("shared", "t1rho", "t2")."""
        return tuple(INPUT_NAMES[index] for index in self.input_channels)

    def forward(self, images: torch.Tensor, times: torch.Tensor) -> MappingOutput:
        """Maps in ms for (B, 3, H, W) normalised images and (B, 2) times (TSL, TP) in ms.

        Raises UserInputError when a time the network uses is outside its trained range.
        """
        if images.ndim != 4 or images.shape[1] != len(INPUT_NAMES):
            raise ValueError("images must be shaped (batch, 3, H, W) as (shared, "
                             f"T1rho-weighted, T2-weighted), got {tuple(images.shape)}")
        if times.shape[0] != images.shape[0]:
            raise ValueError(f"{times.shape[0]} time pairs for {images.shape[0]} images")
        check_time_tensor(self.config, self.checked_tasks, times)
        height, width = images.shape[-2:]
        x = images[:, list(self.input_channels)]
        log_times = self._two_point(images, times)
        if self.feature_tasks:
            x = torch.cat([x] + [(log_times[task] - math.log(REFERENCE_MS))
                                 for task in self.feature_tasks], dim=1)
        x = F.pad(x, (0, -width % self.multiple, 0, -height % self.multiple))
        x = x.contiguous(memory_format=torch.channels_last)
        used_times = times[:, list(self.time_columns)].to(x.dtype)
        if used_times.shape[0] > 1 and bool((used_times == used_times[:1]).all()):
            used_times = used_times[:1]  # one embedding for the batch: FiLM fuses
        embedding = self.embedding(used_times)
        skips = self.encoder(x, embedding)
        raw = self.decoder(skips, embedding)[..., :height, :width]
        if self.residual:
            smoothing = float(self.config["residual_smoothing_px"])
            bases = []
            for task in self.tasks:
                channel = _OWN_CHANNEL[task]
                base = smoothed_log_time(log_times[task], images[:, channel:channel + 1],
                                         smoothing)
                bases.append(logit_of_time(base, *self.config["bounds_ms"][task]))
            raw = raw + torch.cat(bases, dim=1)
        maps = {task: bounded_time(raw[:, k:k + 1], *self.config["bounds_ms"][task])
                for k, task in enumerate(self.tasks)}
        log_scales = None
        if self.scale_decoder is not None:
            raw_scale = self.scale_decoder(skips, embedding)[..., :height, :width]
            low, high = self.config["log_scale_bounds"]
            log_scales = {task: bounded_log_scale(raw_scale[:, k:k + 1], low, high)
                          for k, task in enumerate(self.tasks)}
        return MappingOutput(maps=maps, log_scales=log_scales)

    def _two_point(self, images: torch.Tensor, times: torch.Tensor
                   ) -> dict[str, torch.Tensor]:
        """log of the two-point T of each task whose feature or residual is needed."""
        tasks = set(self.feature_tasks) | (set(self.tasks) if self.residual else set())
        out = {}
        for task in tasks:
            low, high = self.config["bounds_ms"].get(task, self.config["bounds_ms"][
                self.tasks[0]])
            out[task] = two_point_log_time(images[:, 0:1], images[:, _OWN_CHANNEL[task]:
                                                                  _OWN_CHANNEL[task] + 1],
                                           times[:, TIME_INDEX[task]], low, high)
        return out
