"""The generic multi-task training loop shared by the mapping networks and UMSRep.

A module supplies its network, a step function and a loss weighting::

    def step(model, batch) -> StepOutput:
        images, t1rho, t2 = batch
        pred = model(images)              # call the forward: DDP syncs gradients there
        return StepOutput(losses={"t1rho": l1(pred[:, 0], t1rho), "t2": l1(pred[:, 1], t2)})

    trainer = Trainer(net, step, UncertaintyWeighting(["t1rho", "t2"]), config, "runs/a")
    result = trainer.fit(make_loader(train, config, shuffle=True),
                         make_loader(val, config, shuffle=False))

The Trainer moves batches (tensors, possibly nested in tuples, lists and dicts) to the
device, optimises the model and the weighting's parameters (learned σ) together, and
per epoch: averages each task's loss, the weighted total and the metrics, calls the
weighting's ``epoch_end`` with the training losses (dynamic weight average), keeps the
best epoch by the monitored validation value, stops early after ``patience`` epochs
without improvement, writes ``last.pt``/``best.pt`` and the CSV log, and shows a tqdm
bar with each task's loss and weight/σ. Under torchrun the model is wrapped in
DistributedDataParallel, the weighting's gradients and all epoch statistics are
averaged over ranks, and only rank 0 writes files.

Reproducibility: ``fit`` seeds everything from ``config.seed`` (seed again yourself
before building the model so its initial weights are reproducible too); loader
shuffling is reseeded per epoch. ``fit(resume=True)`` restores model, weighting,
optimiser, RNG states, history and early-stopping state from ``last.pt`` and continues
exactly as an uninterrupted single-process run would.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from MultiTaskLib.checkpoint import BEST, LAST, cpu_copy, load_checkpoint, save_checkpoint
from MultiTaskLib.config import ConfigError, TrainConfig
from MultiTaskLib.csv_log import write_csv_log
from MultiTaskLib.distributed import (
    DistContext,
    all_reduce_sum,
    average_gradients,
    barrier,
    current_context,
    union_of_names,
    wrap_model,
)
from MultiTaskLib.records import EpochRecord, TrainResult
from MultiTaskLib.seeding import capture_rng_state, epoch_seed, restore_rng_state, seed_everything
from MultiTaskLib.weighting import LossWeighting

__all__ = ["StepOutput", "Trainer", "TrainConfig", "TrainResult", "EpochRecord",
           "build_optimizer", "move_to_device", "format_postfix"]


@dataclass
class StepOutput:
    """What a step function returns for one batch.

    ``losses``: scalar loss tensor per task (a subset of the weighting's tasks is
    allowed); ``metrics``: extra numbers to average per epoch and log (e.g. RMAE, Dice).
    """

    losses: dict[str, Tensor]
    metrics: dict[str, float] = field(default_factory=dict)


StepFn = Callable[[nn.Module, Any], StepOutput]


@dataclass
class _Progress:
    """Early-stopping bookkeeping that a checkpoint carries across a resume."""

    history: list[EpochRecord] = field(default_factory=list)
    best_value: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0
    next_epoch: int = 1
    best_weights: dict[str, dict[str, Tensor]] | None = None


class Trainer:
    """Train ``model`` with ``step_fn`` and ``weighting`` under ``config``; files go to ``out_dir``.

    ``context`` defaults to the current process group (see :mod:`MultiTaskLib.distributed`)
    or a single process on ``config.device``. In a distributed run ``step_fn`` receives the
    DDP wrapper while training; it must call ``model(...)`` (not submodules directly) so
    gradients are synchronised, and it receives the plain model for validation.
    """

    def __init__(self, model: nn.Module, step_fn: StepFn, weighting: LossWeighting,
                 config: TrainConfig, out_dir: str | Path, *,
                 context: DistContext | None = None) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError("config must be a TrainConfig (use TrainConfig.from_dict)")
        self.config = config
        self.context = context or current_context(config.device)
        self.device = self.context.device
        self.model = model.to(self.device)
        self.weighting = weighting.to(self.device)
        self.step_fn = step_fn
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.train_model = wrap_model(self.model, self.context, config.find_unused_parameters)
        self.optimizer = build_optimizer(self.model, self.weighting, config)

    @property
    def state_kind(self) -> str:
        return getattr(self.weighting, "state_kind", "weight")

    def fit(self, train_loader: Iterable, val_loader: Iterable | None = None, *,
            resume: bool = False) -> TrainResult:
        """Train for ``config.epochs`` epochs (or until early stopping); see the module doc."""
        if resume:
            progress = self._resume()
        else:
            seed_everything(self.config.seed)
            progress = _Progress()
        stopped = False
        last_epoch = progress.next_epoch - 1
        for epoch in range(progress.next_epoch, self.config.epochs + 1):
            train = self._run_epoch(train_loader, epoch, training=True)
            records = [train]
            if val_loader is not None:
                records.append(self._run_epoch(val_loader, epoch, training=False))
            self.weighting.epoch_end(train.losses)
            progress.history.extend(records)
            self._update_best(progress, records[-1], epoch)
            last_epoch = epoch
            stopped = (self.config.patience is not None
                       and progress.bad_epochs >= self.config.patience)
            self._write_epoch_files(progress, epoch, final=stopped or epoch == self.config.epochs)
            self._announce(records)
            if stopped:
                break
        if self.config.restore_best and progress.best_weights is not None:
            self.model.load_state_dict(progress.best_weights["model"])
            self.weighting.load_state_dict(progress.best_weights["weighting"])
        barrier(self.context)
        best_value = math.nan if progress.best_value is None else progress.best_value
        return TrainResult(history=progress.history, best_epoch=progress.best_epoch,
                           best_value=best_value, last_epoch=last_epoch, stopped_early=stopped,
                           out_dir=self.out_dir)

    # --- one epoch ------------------------------------------------------------------

    def _run_epoch(self, loader: Iterable, epoch: int, training: bool) -> EpochRecord:
        started = time.perf_counter()
        split = "train" if training else "val"
        self._prepare_loader(loader, epoch)
        model = self.train_model if training else self.model
        model.train(training)
        self.weighting.train(training)
        sums = _Sums(self.weighting.tasks)
        show = self.config.progress and self.context.is_main
        state = self.weighting.state() if show else {}
        bar = tqdm(loader, desc=f"epoch {epoch}/{self.config.epochs} {split}", leave=False,
                   disable=not show, file=sys.stderr, dynamic_ncols=True)
        with torch.set_grad_enabled(training):
            for index, batch in enumerate(bar):
                output = self.step_fn(model, move_to_device(batch, self.device))
                if not isinstance(output, StepOutput):
                    raise TypeError(f"step_fn must return a StepOutput, got "
                                    f"{type(output).__name__}")
                total = self.weighting(output.losses)
                if not torch.isfinite(total.detach()).all():
                    values = {task: float(loss.detach()) for task, loss in output.losses.items()}
                    raise FloatingPointError(f"non-finite {split} loss at epoch {epoch}, batch "
                                             f"{index}: task losses {values}")
                if training:
                    self._optimise(total)
                sums.add(output, total)
                if show:
                    state = self.weighting.state() if training else state
                    bar.set_postfix(format_postfix(sums.means(), state, self.state_kind),
                                    refresh=False)
        bar.close()
        losses, total, metrics = sums.reduce(self.context)
        return EpochRecord(epoch=epoch, split=split, losses=losses, total=total,
                           weighting=self.weighting.state(),
                           lr=float(self.optimizer.param_groups[0]["lr"]),
                           seconds=time.perf_counter() - started, metrics=metrics)

    def _optimise(self, total: Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        average_gradients(self.weighting.parameters(), self.context)
        if self.config.grad_clip is not None:
            params = [*self.model.parameters(), *self.weighting.parameters()]
            torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        self.optimizer.step()

    def _prepare_loader(self, loader: Iterable, epoch: int) -> None:
        """Make the sample order of an epoch depend on (seed, epoch) only."""
        sampler = getattr(loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        for generator in (getattr(loader, "generator", None),
                          getattr(sampler, "generator", None)):
            if isinstance(generator, torch.Generator):
                generator.manual_seed(epoch_seed(self.config.seed, epoch))

    # --- bookkeeping ----------------------------------------------------------------

    def _update_best(self, progress: _Progress, record: EpochRecord, epoch: int) -> None:
        try:
            value = record.value(self.config.monitor)
        except ValueError as error:
            raise ConfigError(f"training option 'monitor': {error}") from None
        sign = 1.0 if self.config.monitor_mode == "min" else -1.0
        improved = math.isfinite(value) and (
            progress.best_value is None
            or sign * (progress.best_value - value) > self.config.min_delta)
        if improved:
            progress.best_value, progress.best_epoch, progress.bad_epochs = value, epoch, 0
            progress.best_weights = {"model": cpu_copy(self.model.state_dict()),
                                     "weighting": cpu_copy(self.weighting.state_dict())}
            if self.context.is_main:
                save_checkpoint(self.out_dir / BEST, {
                    "epoch": epoch, "value": value, "monitor": self.config.monitor,
                    **progress.best_weights, "config": self.config.to_dict()})
        else:
            progress.bad_epochs += 1

    def _write_epoch_files(self, progress: _Progress, epoch: int, final: bool) -> None:
        if not self.context.is_main:
            return
        if self.config.log_csv:
            write_csv_log(self.out_dir / self.config.log_csv, progress.history,
                          self.weighting.tasks, self.state_kind)
        if final or epoch % self.config.checkpoint_every == 0:
            save_checkpoint(self.out_dir / LAST, {
                "epoch": epoch,
                "model": self.model.state_dict(),
                "weighting": self.weighting.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "rng": capture_rng_state(),
                "config": self.config.to_dict(),
                "tasks": list(self.weighting.tasks),
                "history": [record.to_dict() for record in progress.history],
                "best": {"value": progress.best_value, "epoch": progress.best_epoch,
                         "bad_epochs": progress.bad_epochs},
            })

    def _resume(self) -> _Progress:
        checkpoint = load_checkpoint(self.out_dir / LAST)
        if list(checkpoint["tasks"]) != list(self.weighting.tasks):
            raise ValueError(f"{self.out_dir / LAST} was trained on tasks {checkpoint['tasks']}, "
                             f"not {list(self.weighting.tasks)}")
        self.model.load_state_dict(checkpoint["model"])
        self.weighting.load_state_dict(checkpoint["weighting"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        restore_rng_state(checkpoint["rng"])
        best = checkpoint["best"]
        progress = _Progress(history=[EpochRecord.from_dict(r) for r in checkpoint["history"]],
                             best_value=best["value"], best_epoch=best["epoch"],
                             bad_epochs=best["bad_epochs"], next_epoch=checkpoint["epoch"] + 1)
        best_path = self.out_dir / BEST
        if best["value"] is not None and best_path.is_file():
            saved = load_checkpoint(best_path)
            progress.best_weights = {"model": saved["model"], "weighting": saved["weighting"]}
        return progress

    def _announce(self, records: list[EpochRecord]) -> None:
        if not (self.config.progress and self.context.is_main):
            return
        parts = []
        for record in records:
            values = format_postfix(record.losses, record.weighting, self.state_kind)
            text = " ".join(f"{key}={value}" for key, value in values.items())
            parts.append(f"{record.split}: total={record.total:.4g} {text}")
        tqdm.write(f"epoch {records[0].epoch}/{self.config.epochs} " + " | ".join(parts),
                   file=sys.stderr)


class _Sums:
    """Running sums of task losses, weighted totals and metrics over one epoch."""

    def __init__(self, tasks: tuple[str, ...]) -> None:
        self.tasks = tasks
        self.loss_sum = dict.fromkeys(tasks, 0.0)
        self.loss_count = dict.fromkeys(tasks, 0)
        self.total_sum = 0.0
        self.batches = 0
        self.metric_sum: dict[str, float] = {}
        self.metric_count: dict[str, int] = {}

    def add(self, output: StepOutput, total: Tensor) -> None:
        for task, loss in output.losses.items():
            self.loss_sum[task] += float(loss.detach())
            self.loss_count[task] += 1
        self.total_sum += float(total.detach())
        self.batches += 1
        for name, value in output.metrics.items():
            value = float(value.detach()) if isinstance(value, Tensor) else float(value)
            self.metric_sum[name] = self.metric_sum.get(name, 0.0) + value
            self.metric_count[name] = self.metric_count.get(name, 0) + 1

    def means(self) -> dict[str, float]:
        return {task: self.loss_sum[task] / self.loss_count[task] for task in self.tasks
                if self.loss_count[task]}

    def reduce(self, context: DistContext) -> tuple[dict[str, float], float, dict[str, float]]:
        """Epoch means, summed over ranks first (every rank gets the same numbers)."""
        metrics = union_of_names(self.metric_sum, context)
        packed = torch.tensor(
            [self.loss_sum[t] for t in self.tasks] + [self.loss_count[t] for t in self.tasks]
            + [self.total_sum, self.batches] + [self.metric_sum.get(m, 0.0) for m in metrics]
            + [self.metric_count.get(m, 0) for m in metrics], dtype=torch.float64)
        packed = all_reduce_sum(packed, context).tolist()
        count = len(self.tasks)
        losses = {task: packed[i] / packed[count + i] for i, task in enumerate(self.tasks)
                  if packed[count + i] > 0}
        total = packed[2 * count] / packed[2 * count + 1] if packed[2 * count + 1] else math.nan
        start = 2 * count + 2
        values = {name: packed[start + i] / packed[start + len(metrics) + i]
                  for i, name in enumerate(metrics) if packed[start + len(metrics) + i] > 0}
        return losses, total, values


def build_optimizer(model: nn.Module, weighting: nn.Module, config: TrainConfig
                    ) -> torch.optim.Optimizer:
    """Optimiser over the model and the weighting's learned parameters.

    Weight decay applies to the model only: on the weighting's log-scales it would pull
    every σ towards 1 regardless of the data. The weighting's parameters use
    ``config.weighting_lr`` when it is set.
    """
    groups = [{"params": [p for p in model.parameters() if p.requires_grad],
               "weight_decay": config.weight_decay}]
    learned = [p for p in weighting.parameters() if p.requires_grad]
    if learned:
        groups.append({"params": learned, "weight_decay": 0.0,
                       "lr": config.weighting_lr or config.lr})
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def move_to_device(batch: Any, device: torch.device) -> Any:
    """Move tensors, also inside (nested) tuples, lists and dicts, to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {key: move_to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to_device(value, device) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to_device(value, device) for value in batch)
    return batch


def format_postfix(losses: Mapping[str, float], state: Mapping[str, float], state_kind: str
                   ) -> dict[str, str]:
    """Progress-bar fields: each task's loss, then its weight or σ (``<kind>_<task>``)."""
    fields = {task: f"{value:.4g}" for task, value in losses.items()}
    fields.update({f"{state_kind}_{task}": f"{value:.3g}" for task, value in state.items()})
    return fields
