"""Build encoders, heads and whole models from an :class:`ArchitectureSpec` and tasks."""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from ..tasks import TaskSpec
from .classifier import ClassificationHead
from .decoders import ReconstructionDecoder, SegmentationDecoder
from .encoder import SharedEncoder
from .model import UMSRepModel
from .spec import ArchitectureSpec


def build_encoder(spec: ArchitectureSpec) -> SharedEncoder:
    """A freshly initialised shared encoder."""
    return SharedEncoder(spec.in_channels, spec.widths)


def build_head(task: TaskSpec, spec: ArchitectureSpec) -> nn.Module:
    """The head of a task's kind, sized by ``spec``."""
    if task.kind == "denoise":
        return ReconstructionDecoder(spec.widths, spec.in_channels)
    if task.kind == "segmentation":
        return SegmentationDecoder(spec.widths, spec.seg_widths, spec.seg_skips)
    levels = (-1,) if spec.classifier_levels == "last" else tuple(range(spec.levels))
    return ClassificationHead(spec.widths, spec.classifier_hidden, task.num_classes,
                              spec.dropout, levels, spec.classifier_pooling)


def build_model(spec: ArchitectureSpec, tasks: Iterable[TaskSpec],
                encoder: SharedEncoder | None = None) -> UMSRepModel:
    """A model with ``encoder`` (a new one by default) and a new head per task."""
    model = UMSRepModel(encoder if encoder is not None else build_encoder(spec))
    for task in tasks:
        model.add_head(task, build_head(task, spec))
    return model


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or not) of a module."""
    return sum(p.numel() for p in module.parameters())
