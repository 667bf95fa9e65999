"""Loaders that decide which task each training step sees.

All yield ``{task: batch}`` dicts for :func:`.steps.make_step`:

* :class:`SingleTask`  - one task's loader (independent fine-tuning, pretraining);
* :class:`Alternating` - task-specific batches interleaved in a fixed ratio (the
  paper's alternating strategy: each step updates the encoder and one head);
* :class:`Joint`       - one batch of every task per step, for a weighted sum of the
  task losses (the joint strategy);
* :class:`Sequential`  - every task's batches one after the other (validation: each
  task's loss is averaged over its own batches).

The Trainer reseeds ``loader.generator`` every epoch; these wrappers expose one
generator and derive the shuffling of their task loaders from it, so an epoch's order
depends only on (seed, epoch).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import torch
from torch.utils.data import DataLoader

from ..errors import UserInputError


class _Wrapper:
    def __init__(self, loaders: Mapping[str, DataLoader]) -> None:
        if not loaders:
            raise UserInputError("no task to train")
        self.loaders = dict(loaders)
        self.generator = torch.Generator()
        self.generator.manual_seed(0)

    def _reseed(self) -> None:
        base = self.generator.initial_seed()
        for offset, loader in enumerate(self.loaders.values()):
            generator = getattr(loader, "generator", None)
            if isinstance(generator, torch.Generator):
                generator.manual_seed((base + 7919 * offset) % 2**63)

    def _cycle(self, task: str) -> Iterator:
        while True:
            empty = True
            for batch in self.loaders[task]:
                empty = False
                yield batch
            if empty:
                raise UserInputError(f"task {task!r} has no training example")


class SingleTask(_Wrapper):
    """``{task: batch}`` for every batch of one loader."""

    def __init__(self, task: str, loader: DataLoader) -> None:
        super().__init__({task: loader})
        self.task = task

    def __len__(self) -> int:
        return len(self.loaders[self.task])

    def __iter__(self) -> Iterator[dict]:
        self._reseed()
        for batch in self.loaders[self.task]:
            yield {self.task: batch}


def ratio_pattern(ratio: Mapping[str, int]) -> list[str]:
    """One cycle of tasks, each ``ratio[task]`` times, spread evenly (not in blocks).

    ``{"liver": 2, "quality": 1}`` -> ``["liver", "quality", "liver"]``.
    """
    slots = []
    for order, (task, count) in enumerate(ratio.items()):
        if not isinstance(count, int) or count < 1:
            raise UserInputError(f"alternating ratio of task {task!r} must be an integer >= 1, "
                                 f"got {count!r}")
        slots += [((index + 0.5) / count, order, task) for index in range(count)]
    return [task for _, _, task in sorted(slots)]


class Alternating(_Wrapper):
    """Task batches in the ratio ``ratio`` (task -> batches per cycle).

    An epoch runs whole cycles until the task that needs the most cycles has seen all
    its batches once; tasks with fewer batches start over (their loaders are cycled).
    """

    def __init__(self, loaders: Mapping[str, DataLoader], ratio: Mapping[str, int]) -> None:
        super().__init__(loaders)
        if set(ratio) != set(self.loaders):
            raise UserInputError(f"alternating ratio names tasks {sorted(ratio)}, expected "
                                 f"{sorted(self.loaders)}")
        self.ratio = {task: ratio[task] for task in self.loaders}
        self.pattern = ratio_pattern(self.ratio)
        self.cycles = max(math.ceil(len(loader) / self.ratio[task])
                          for task, loader in self.loaders.items())

    def __len__(self) -> int:
        return self.cycles * len(self.pattern)

    def __iter__(self) -> Iterator[dict]:
        self._reseed()
        streams = {task: self._cycle(task) for task in self.loaders}
        for _ in range(self.cycles):
            for task in self.pattern:
                yield {task: next(streams[task])}


class Joint(_Wrapper):
    """One batch of every task per step; an epoch is as long as the longest loader."""

    def __len__(self) -> int:
        return max(len(loader) for loader in self.loaders.values())

    def __iter__(self) -> Iterator[dict]:
        self._reseed()
        streams = {task: self._cycle(task) for task in self.loaders}
        for _ in range(len(self)):
            yield {task: next(stream) for task, stream in streams.items()}


class Sequential(_Wrapper):
    """Every batch of every task, task after task (for validation)."""

    def __len__(self) -> int:
        return sum(len(loader) for loader in self.loaders.values())

    def __iter__(self) -> Iterator[dict]:
        self._reseed()
        for task, loader in self.loaders.items():
            for batch in loader:
                yield {task: batch}
