"""The step function that plugs the mapping networks into MultiTaskLib's Trainer.

``Trainer(model, mapping_step(options), weighting, config, out_dir)`` trains any of the
architectures on :class:`~.dataset.MappingSliceDataset` batches: the step runs the
network on the batch's 3 input images and times, returns the per-task losses of
:func:`~.losses.task_losses` for the weighting to combine (fixed λa·La + λb·Lb,
uncertainty (HOMOU), DWA; HETEU with fixed unit weights, its uncertainty being per
pixel) and, where the batch has ground truth, the liver-ROI RMAE of each map in percent
(Huang et al.'s evaluation metric) as ``rmae_<task>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from torch import nn

from MultiTaskLib.metrics import rmae
from MultiTaskLib.training import StepOutput

from .losses import LossOptions, task_losses
from .models import MappingOutput


def mapping_step(options: LossOptions | None = None
                 ) -> Callable[[nn.Module, Mapping], StepOutput]:
    """A Trainer step function computing the losses chosen by ``options``."""
    options = options or LossOptions()

    def step(model: nn.Module, batch: Mapping) -> StepOutput:
        output = model(batch["inputs"], batch["input_times"])
        return StepOutput(losses=task_losses(output, batch, options),
                          metrics=roi_rmae(output, batch))

    return step


def roi_rmae(output: MappingOutput, batch: Mapping) -> dict[str, float]:
    """``{"rmae_<task>": RMAE % in the ROI}`` for tasks with finite ground truth there."""
    metrics = {}
    roi = batch["roi"].detach() > 0.5
    for task, t_ms in output.maps.items():
        value = rmae(t_ms.detach(), batch["gt"][task].detach(), roi)
        if math.isfinite(value):
            metrics[f"rmae_{task}"] = value
    return metrics
