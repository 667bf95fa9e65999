"""Label-free pretraining of the shared representation: a denoising autoencoder.

The encoder and the symmetric decoder are trained end to end to reconstruct clean
slices from corrupted ones (Gaussian noise at several σ and Poisson noise,
:class:`UMSRepLib.noise.NoiseModel`), with mean squared error. No label is used, so any
collection of images of the modality serves; the encoder becomes the shared
representation and the decoder stays on as the denoising head (its output is a usable
denoised image).
"""

from __future__ import annotations

from pathlib import Path

import torch

from MultiTaskLib.config import TrainConfig
from MultiTaskLib.weighting import FixedWeighting

from ..data.augment import Augmentation
from ..data.slices import SliceSet
from ..networks import ArchitectureSpec, UMSRepModel, build_model
from ..noise import NoiseModel
from ..tasks import DENOISE
from .runner import StageRecord, fit_timed, task_loaders
from .schedules import SingleTask


def pretrain(train: SliceSet, val: SliceSet | None, spec: ArchitectureSpec, noise: NoiseModel,
             config: TrainConfig, out_dir: str | Path, augment: Augmentation | bool = False
             ) -> tuple[UMSRepModel, StageRecord]:
    """Train encoder + denoising head; returns the model and the run's record."""
    torch.manual_seed(config.seed)
    model = build_model(spec, [DENOISE])
    train_loader = SingleTask(DENOISE.name, task_loaders(train, [DENOISE], noise, config,
                                                         training=True,
                                                         augment=augment)[DENOISE.name])
    val_loader = None
    if val is not None and len(val):
        val_loader = SingleTask(DENOISE.name, task_loaders(val, [DENOISE], noise, config,
                                                           training=False)[DENOISE.name])
    record = fit_timed(model, {DENOISE.name: DENOISE}, train_loader, val_loader,
                       FixedWeighting({DENOISE.name: 1.0}), config, Path(out_dir),
                       name="pretrain", kind="pretrain")
    return model, record
