"""Heads trained on cached features of a frozen encoder (independent fine-tuning).

With the encoder frozen its output for a given input never changes, so running it at
every step of every epoch repeats the same work. The paper's efficiency argument is
exactly that new tasks only pay for their heads; this module makes the implementation
honour it: each training slice is encoded ``views`` times, each time with a fresh
training augmentation, and the heads then train on those stored features, every sample
drawing one of its views at random (from torch's RNG, which the Trainer seeds per
epoch). Validation slices are encoded once, unaugmented. A classification head pools
the features without parameters, so only its pooled vector is stored. The heads are
the model's own modules, so the trained weights land in the model.

The result differs from encoding on the fly only in how many distinct augmentations a
head sees (``views`` instead of one per epoch); the encoding time is part of the
stage's training time.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from MultiTaskLib.config import TrainConfig
from MultiTaskLib.loaders import make_loader

from ..networks import SharedEncoder
from ..networks.classifier import ClassificationHead

ENCODE_BATCH = 64


class EncodedDataset(Dataset):
    """Items ``(features per level, target)`` with one of ``views`` feature sets per sample."""

    def __init__(self, levels: list[Tensor], targets: Tensor) -> None:
        self.levels = levels  # each (views, N, C, H, W)
        self.targets = targets
        self.views = int(levels[0].shape[0])

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def __getitem__(self, index: int) -> tuple[tuple[Tensor, ...], Tensor]:
        view = int(torch.randint(self.views, ())) if self.views > 1 else 0
        return tuple(level[view, index] for level in self.levels), self.targets[index]


def encode_dataset(encoder: SharedEncoder, dataset: Dataset, views: int, seed: int,
                   reduce=None) -> EncodedDataset:
    """Encode every item of ``dataset`` ``views`` times (augmentations drawn afresh);
    ``reduce`` (features -> tensor), when given, is applied before storing."""
    was_training = encoder.training
    device = next(encoder.parameters()).device
    encoder.eval()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    per_view, targets = [], None
    try:
        for _ in range(views):
            outputs, view_targets = [], []
            for inputs, target in DataLoader(dataset, batch_size=ENCODE_BATCH, shuffle=False):
                with torch.no_grad():
                    features = encoder(inputs.to(device))
                    features = [reduce(features)] if reduce is not None else features
                    outputs.append([level.cpu() for level in features])
                view_targets.append(target)
            per_view.append([torch.cat(level) for level in zip(*outputs, strict=True)])
            targets = torch.cat(view_targets) if targets is None else targets
    finally:
        torch.random.set_rng_state(generator_state)
        encoder.train(was_training)
    levels = [torch.stack(level) for level in zip(*per_view, strict=True)]
    return EncodedDataset(levels, targets)


def encoded_loader(encoder: SharedEncoder, head: nn.Module, loader: DataLoader, views: int,
                   config: TrainConfig, *, shuffle: bool) -> DataLoader:
    """A loader over the encoded items of ``loader``'s dataset (same batch size, seed),
    pooled already when ``head`` is a classifier."""
    reduce = head.pool if isinstance(head, ClassificationHead) else None
    encoded = encode_dataset(encoder, loader.dataset, views, config.seed, reduce)
    return make_loader(encoded, config, shuffle=shuffle)


class HeadsOnFeatures(nn.Module):
    """The model's heads fed stored features: ``{task: features} -> {task: output}``
    (a classifier gets its stored pooled vector)."""

    def __init__(self, heads: Mapping[str, nn.Module]) -> None:
        super().__init__()
        self.heads = nn.ModuleDict(dict(heads))

    def forward(self, inputs: Mapping[str, list[Tensor]]) -> dict[str, Tensor]:
        outputs = {}
        for name, features in inputs.items():
            head = self.heads[name]
            outputs[name] = (head.classify(features[0]) if isinstance(head, ClassificationHead)
                             else head(list(features)))
        return outputs
