"""One timed training run on the shared Trainer, and the loaders it needs.

Training time is part of what UMS-Rep is about (the paper reports it next to accuracy
and parameter counts), so every run is wrapped by :func:`fit_timed`, which returns a
:class:`StageRecord` with the wall-clock seconds, epochs and trainable parameters; model
cards and the evaluation report are built from these records.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from MultiTaskLib.config import TrainConfig
from MultiTaskLib.loaders import make_loader
from MultiTaskLib.training import Trainer
from MultiTaskLib.weighting import LossWeighting

from ..data.augment import Augmentation
from ..data.datasets import task_dataset
from ..data.slices import SliceSet
from ..noise import NoiseModel
from ..tasks import TaskSpec
from .steps import make_step


@dataclass
class StageRecord:
    """What one training run did: which tasks, how long, how many epochs and weights."""

    name: str
    kind: str
    tasks: list[str]
    seconds: float
    epochs: int
    best_epoch: int
    best_value: float
    trainable_parameters: int
    weighting: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> StageRecord:
        return cls(**dict(values))


def fit_timed(model: nn.Module, tasks: Mapping[str, TaskSpec], train_loader, val_loader,
              weighting: LossWeighting, config: TrainConfig, out_dir: str | Path, *,
              name: str, kind: str) -> StageRecord:
    """``Trainer(...).fit`` with wall-clock timing; the best epoch's weights are kept."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    trainer = Trainer(model, make_step(tasks), weighting, config, out_dir)
    started = time.perf_counter()
    result = trainer.fit(train_loader, val_loader)
    seconds = time.perf_counter() - started
    return StageRecord(name=name, kind=kind, tasks=list(tasks), seconds=round(seconds, 3),
                       epochs=result.last_epoch, best_epoch=result.best_epoch,
                       best_value=float(result.best_value), trainable_parameters=trainable,
                       weighting=weighting.state())


def task_loaders(slices: SliceSet, tasks: list[TaskSpec], noise: NoiseModel,
                 config: TrainConfig, *, training: bool, augment: Augmentation | bool = False
                 ) -> dict[str, Any]:
    """One DataLoader per task (shuffled when ``training``); tasks without data are
    left out."""
    loaders = {}
    for task in tasks:
        dataset = task_dataset(slices, task, noise, training=training, augment=augment,
                               seed=config.seed)
        if len(dataset) == 0:
            continue
        loaders[task.name] = make_loader(dataset, config, shuffle=training)
    return loaders
