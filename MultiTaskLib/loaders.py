"""DataLoaders that are reproducible and, under torchrun, split the data across ranks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from MultiTaskLib.config import TrainConfig
from MultiTaskLib.distributed import DistContext, current_context, distributed_sampler
from MultiTaskLib.seeding import seed_worker


def make_loader(dataset: Dataset, config: TrainConfig, *, shuffle: bool,
                context: DistContext | None = None, drop_last: bool = False,
                collate_fn: Callable[[list[Any]], Any] | None = None) -> DataLoader:
    """A DataLoader with the config's batch size and workers, seeded from ``config.seed``.

    Single process: shuffling draws from the loader's own generator, which the Trainer
    reseeds at every epoch (:func:`MultiTaskLib.seeding.epoch_seed`), so the order of
    epoch e does not depend on earlier epochs and survives a resume. Distributed: a
    DistributedSampler hands each rank its share; the Trainer calls ``set_epoch``.
    Workers seed NumPy and ``random`` with :func:`MultiTaskLib.seeding.seed_worker`.
    """
    context = context or current_context(config.device)
    generator = torch.Generator()
    generator.manual_seed(config.seed)
    sampler = None
    if context.is_distributed:
        sampler = distributed_sampler(dataset, context, shuffle=shuffle, seed=config.seed,
                                      drop_last=drop_last)
        shuffle = False
    return DataLoader(dataset, batch_size=config.batch_size, shuffle=shuffle, sampler=sampler,
                      drop_last=drop_last, num_workers=config.num_workers,
                      worker_init_fn=seed_worker, generator=generator, collate_fn=collate_fn,
                      pin_memory=context.device.type == "cuda",
                      persistent_workers=False)
