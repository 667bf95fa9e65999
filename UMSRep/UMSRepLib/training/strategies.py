"""Fine-tuning task heads on the shared representation: independent, alternating, joint.

The paper compares three ways to fine-tune the heads (and finds the choice matters):

* **independent** - the encoder is frozen; each head is trained alone with its own
  optimiser (one Trainer run per head). The encoder, and so every other head, is left
  exactly as it was; new heads can be added at any time. Since the frozen encoder's
  output never changes, each slice is encoded ``feature_views`` times (fresh
  augmentation each time) and the head trains on the stored features
  (:mod:`.feature_cache`); ``task_epochs`` gives a head its own epoch budget (a
  classifier on stored features costs almost nothing per epoch).
* **alternating** - encoder and heads are trained together, each step on a batch of a
  single task, tasks interleaved in a configurable ratio (e.g. two segmentation batches
  per classification batch); a step updates the encoder and that task's head.
* **joint** - every step takes a batch of every task and minimises a weighted sum of the
  task losses; the weights are fixed or learned (homoscedastic uncertainty, Kendall et
  al.) or follow dynamic weight average (Liu et al.), from :mod:`MultiTaskLib.weighting`.

Alternating and joint change the encoder; heads that were not part of the run (e.g. the
denoising head of pretraining) no longer match it, so the returned model keeps only the
fine-tuned tasks (list ``denoise`` among the tasks to keep it).
"""

from __future__ import annotations

import dataclasses
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from MultiTaskLib.config import TrainConfig
from MultiTaskLib.weighting import FixedWeighting, make_weighting

from ..data.augment import Augmentation
from ..data.slices import SliceSet
from ..errors import UserInputError
from ..networks import ArchitectureSpec, UMSRepModel, build_head
from ..noise import NoiseModel
from ..tasks import TaskSpec
from .feature_cache import HeadsOnFeatures, encoded_loader
from .runner import StageRecord, fit_timed, task_loaders
from .schedules import Alternating, Joint, Sequential, SingleTask

STRATEGIES = ("independent", "alternating", "joint")


@dataclass
class FinetuneOptions:
    """Which tasks, which strategy; ``weighting``/``weighting_options`` (joint),
    ``ratio`` (alternating, task -> batches per cycle; default 1 each),
    ``feature_views`` and ``task_epochs`` (independent: augmented encodings stored per
    slice, 0 to run the encoder at every step; task -> epochs instead of the train
    config's)."""

    strategy: str = "independent"
    tasks: list[str] = field(default_factory=list)
    weighting: str = "fixed"
    weighting_options: dict[str, Any] = field(default_factory=dict)
    ratio: dict[str, int] = field(default_factory=dict)
    feature_views: int = 4
    task_epochs: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.strategy = str(self.strategy).strip().lower()
        if self.strategy not in STRATEGIES:
            raise UserInputError(f"strategy must be one of {', '.join(STRATEGIES)}, got "
                                 f"{self.strategy!r}")
        self.tasks = list(self.tasks)
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise UserInputError(f"fine-tuning needs a list of distinct task names, got "
                                 f"{self.tasks}")
        if self.ratio and set(self.ratio) != set(self.tasks):
            raise UserInputError(f"the alternating ratio names tasks {sorted(self.ratio)} but "
                                 f"the tasks are {sorted(self.tasks)}")
        if isinstance(self.feature_views, bool) or not isinstance(self.feature_views, int) \
                or self.feature_views < 0:
            raise UserInputError(f"feature_views must be a whole number >= 0, got "
                                 f"{self.feature_views!r}")
        self.task_epochs = dict(self.task_epochs or {})
        bad = [t for t, e in self.task_epochs.items() if isinstance(e, bool)
               or not isinstance(e, int) or e < 1]
        if bad:
            raise UserInputError(f"task_epochs[{bad[0]!r}] must be a whole number >= 1, got "
                                 f"{self.task_epochs[bad[0]]!r}")
        unknown = [t for t in self.task_epochs if t not in self.tasks]
        if unknown:
            raise UserInputError(f"task_epochs names {unknown[0]!r}, which is not among the "
                                 f"fine-tuned tasks {', '.join(self.tasks)}")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> FinetuneOptions:
        values = dict(values or {})
        values.pop("train", None)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserInputError(f"unknown fine-tuning option {unknown[0]!r}; valid: "
                                 f"{', '.join(sorted(known | {'train'}))}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def attach_heads(model: UMSRepModel, tasks: list[TaskSpec], spec: ArchitectureSpec,
                 seed: int = 0) -> UMSRepModel:
    """Add a freshly initialised head for each task the model has no head for yet.

    The encoder's weights are not touched (a test checks this); head initialisation is
    seeded per task so adding heads in another order gives the same heads.
    """
    for task in tasks:
        if task.name in model.heads:
            if model.tasks[task.name] != task:
                raise UserInputError(f"the model's head {task.name!r} predicts "
                                     f"{model.tasks[task.name].to_dict()}, the data "
                                     f"{task.to_dict()}")
            continue
        torch.manual_seed(seed * 1000 + zlib.crc32(task.name.encode()) % 1000)
        model.add_head(task, build_head(task, spec))
    return model


def finetune(model: UMSRepModel, train: SliceSet, val: SliceSet | None,
             options: FinetuneOptions, spec: ArchitectureSpec, noise: NoiseModel,
             config: TrainConfig, out_dir: str | Path, augment: Augmentation | bool = False
             ) -> tuple[UMSRepModel, list[StageRecord]]:
    """Fine-tune ``options.tasks`` on ``model``'s encoder with the chosen strategy."""
    tasks = [train.task(name) for name in options.tasks]
    attach_heads(model, tasks, spec, config.seed)
    out_dir = Path(out_dir)
    train_loaders = task_loaders(train, tasks, noise, config, training=True, augment=augment)
    missing = [t.name for t in tasks if t.name not in train_loaders]
    if missing:
        raise UserInputError(f"task {missing[0]!r} has no labelled training slice")
    val_loaders = (task_loaders(val, tasks, noise, config, training=False)
                   if val is not None and len(val) else {})
    specs = {task.name: task for task in tasks}
    if options.strategy == "independent":
        return model, _independent(model, tasks, train_loaders, val_loaders, config, out_dir,
                                   options)
    model.encoder.unfreeze()
    subset = model.subset(options.tasks)
    config = dataclasses.replace(config, find_unused_parameters=True)
    val_loader = Sequential(val_loaders) if val_loaders else None
    if options.strategy == "alternating":
        ratio = options.ratio or dict.fromkeys(options.tasks, 1)
        loader = Alternating(train_loaders, ratio)
        weighting = FixedWeighting(dict.fromkeys(options.tasks, 1.0))
        name = "alternating " + ":".join(f"{t}={ratio[t]}" for t in options.tasks)
    else:
        loader = Joint(train_loaders)
        weighting = make_weighting(options.weighting, options.tasks,
                                   **options.weighting_options)
        name = f"joint ({options.weighting})"
    record = fit_timed(subset, specs, loader, val_loader, weighting, config,
                       out_dir / options.strategy, name=name, kind=options.strategy)
    return subset, [record]


def _independent(model: UMSRepModel, tasks: list[TaskSpec], train_loaders: dict,
                 val_loaders: dict, config: TrainConfig, out_dir: Path,
                 options: FinetuneOptions) -> list[StageRecord]:
    model.encoder.freeze()
    records = []
    views = options.feature_views
    for task in tasks:
        task_config = dataclasses.replace(
            config, epochs=int(options.task_epochs.get(task.name, config.epochs)))
        train, val = train_loaders[task.name], val_loaders.get(task.name)
        started = time.perf_counter()
        if views:
            head_model = HeadsOnFeatures({task.name: model.heads[task.name]})
            head = model.heads[task.name]
            train = encoded_loader(model.encoder, head, train, views, task_config,
                                   shuffle=True)
            val = (encoded_loader(model.encoder, head, val, 1, task_config, shuffle=False)
                   if val is not None else None)
        else:
            head_model = model.subset([task.name])
        encoding = time.perf_counter() - started
        record = fit_timed(head_model, {task.name: task}, SingleTask(task.name, train),
                           SingleTask(task.name, val) if val is not None else None,
                           FixedWeighting({task.name: 1.0}), task_config,
                           out_dir / f"independent_{task.name}",
                           name=f"independent {task.name}", kind="independent")
        record.seconds = round(record.seconds + encoding, 3)
        records.append(record)
    return records
