"""The step function shared by every training run: batches are ``{task: (input, target)}``.

A batch dict holds one task (independent training, alternating schedule, validation)
or all of them (joint training). The model is called once with the dict of inputs, so
a DistributedDataParallel wrapper sees exactly one forward pass per step. Metrics:
soft Dice for segmentation tasks (``dice_<task>``) and accuracy for classification tasks
(``accuracy_<task>``), averaged per epoch by the Trainer.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from MultiTaskLib.training import StepOutput

from ..losses import task_loss
from ..tasks import TaskSpec


def make_step(tasks: Mapping[str, TaskSpec]):
    """A ``step_fn(model, batch) -> StepOutput`` for batches of the given tasks."""
    specs = dict(tasks)

    def step(model: nn.Module, batch: Mapping[str, list]) -> StepOutput:
        unknown = [name for name in batch if name not in specs]
        if unknown:
            raise KeyError(f"batch for unknown task {unknown[0]!r}")
        outputs = model({name: items[0] for name, items in batch.items()})
        losses, metrics = {}, {}
        for name, items in batch.items():
            spec, output, target = specs[name], outputs[name], items[1]
            losses[name] = task_loss(spec, output, target)
            with torch.no_grad():
                if spec.kind == "segmentation":
                    predicted = (output > 0).float()
                    overlap = (predicted * target).sum()
                    total = predicted.sum() + target.sum()
                    metrics[f"dice_{name}"] = float(2 * overlap / total) if total > 0 else 1.0
                elif spec.kind == "classification":
                    metrics[f"accuracy_{name}"] = float(
                        (output.argmax(1) == target).float().mean())
        return StepOutput(losses=losses, metrics=metrics)

    return step
