"""The UMSRep config file: data, architecture, noise, pretraining, fine-tuning, benchmark.

One YAML file describes a whole model, so a shipped bundle is reproduced with one
command (``umsrep reproduce UMSRep/Resources/Models/liver_mr.yaml``). Sections::

    name: liver_mr
    threads: 1                 # torch CPU threads (1 gives stable timings on shared CPUs)
    augment: {intensity: true, contrast: true}   # or true (intensity only) / false
    data: {family: liver-mr, subjects: {train: 40, val: 10, test: 12}, seed: 0}
                               # or {path: /some/dataset} for an existing dataset
    architecture: {...}        # ArchitectureSpec
    noise: {...}               # NoiseModel
    pretrain: {...}            # MultiTaskLib TrainConfig options
    finetune: {strategy: independent, tasks: [liver, quality, tissue], train: {...}}
    benchmark: {heterogeneous: [liver, quality], homogeneous: [quality, tissue],
                ratio: {liver: 1, quality: 1}, weightings: [fixed, uncertainty, dwa]}

Unknown keys are one-line errors, as in MultiTaskLib's TrainConfig.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from MultiTaskLib.config import ConfigError, TrainConfig

from .data.augment import Augmentation
from .errors import UserInputError
from .networks import ArchitectureSpec
from .noise import NoiseModel
from .training.strategies import FinetuneOptions

#: Training defaults for UMSRep runs (MultiTaskLib's defaults are Huang et al.'s).
DEFAULT_TRAIN = {"epochs": 20, "lr": 2e-3, "batch_size": 32, "weight_decay": 1e-4,
                 "patience": 4, "monitor": "sum", "device": "cpu", "log_csv": "train_log.csv"}
SECTIONS = ("name", "threads", "augment", "data", "architecture", "noise", "pretrain",
            "finetune", "benchmark")


@dataclass
class BenchmarkOptions:
    """Task groups and strategies of ``umsrep benchmark`` (the paper's comparison)."""

    heterogeneous: list[str] = field(default_factory=lambda: ["liver", "quality"])
    homogeneous: list[str] = field(default_factory=lambda: ["quality", "tissue"])
    ratio: dict[str, int] = field(default_factory=dict)
    weightings: list[str] = field(default_factory=lambda: ["fixed", "uncertainty", "dwa"])

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> BenchmarkOptions:
        values = dict(values or {})
        known = {"heterogeneous", "homogeneous", "ratio", "weightings"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserInputError(f"unknown benchmark option {unknown[0]!r}; valid: "
                                 f"{', '.join(sorted(known))}")
        return cls(**values)


@dataclass
class UMSRepConfig:
    """A parsed config file (see the module docstring)."""

    name: str = "umsrep"
    threads: int | None = 1
    augment: Augmentation = field(default_factory=lambda: Augmentation(intensity=True))
    data: dict[str, Any] = field(default_factory=dict)
    architecture: ArchitectureSpec = field(default_factory=ArchitectureSpec)
    noise: NoiseModel = field(default_factory=NoiseModel)
    pretrain: dict[str, Any] = field(default_factory=dict)
    finetune: FinetuneOptions = field(
        default_factory=lambda: FinetuneOptions(tasks=["liver", "quality", "tissue"]))
    finetune_train: dict[str, Any] = field(default_factory=dict)
    benchmark: BenchmarkOptions = field(default_factory=BenchmarkOptions)
    source: str = "defaults"

    def train_config(self, section: str, **overrides: Any) -> TrainConfig:
        """TrainConfig of ``pretrain`` or ``finetune`` (defaults, file, then overrides)."""
        options = dict(DEFAULT_TRAIN)
        options.update(self.pretrain if section == "pretrain" else self.finetune_train)
        options.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return TrainConfig.from_dict(options, source=f"{self.source} [{section}]")
        except ConfigError as error:
            raise UserInputError(str(error)) from None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "threads": self.threads, "augment": self.augment.to_dict(),
                "data": dict(self.data), "architecture": self.architecture.to_dict(),
                "noise": self.noise.to_dict(), "pretrain": dict(self.pretrain),
                "finetune": {**self.finetune.to_dict(), "train": dict(self.finetune_train)},
                "benchmark": dict(vars(self.benchmark))}


def load_config(path: str | Path | None) -> UMSRepConfig:
    """Read a config file (None: the defaults)."""
    if path is None:
        return UMSRepConfig()
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"config file {path} does not exist")
    import yaml

    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except Exception as error:
        first = (str(error).strip().splitlines() or ["syntax error"])[0]
        raise UserInputError(f"cannot parse config {path}: {first}") from None
    return config_from_dict(values, source=str(path))


def config_from_dict(values: dict[str, Any], source: str = "config") -> UMSRepConfig:
    if not isinstance(values, dict):
        raise UserInputError(f"{source} must hold a mapping of sections")
    unknown = sorted(set(values) - set(SECTIONS))
    if unknown:
        raise UserInputError(f"unknown section {unknown[0]!r} in {source}; valid: "
                             f"{', '.join(SECTIONS)}")
    finetune = dict(values.get("finetune") or {})
    finetune_train = dict(finetune.get("train") or {})
    finetune.setdefault("tasks", ["liver", "quality", "tissue"])
    threads = values.get("threads", 1)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise UserInputError(f"{source}: threads must be a positive integer or null")
    return UMSRepConfig(
        name=str(values.get("name") or "umsrep"), threads=threads,
        augment=Augmentation.of(values.get("augment", True)),
        data=dict(values.get("data") or {}),
        architecture=ArchitectureSpec.from_dict(values.get("architecture")),
        noise=NoiseModel.from_dict(values.get("noise")),
        pretrain=dict(values.get("pretrain") or {}),
        finetune=FinetuneOptions.from_dict(finetune), finetune_train=finetune_train,
        benchmark=BenchmarkOptions.from_dict(values.get("benchmark")), source=source)
