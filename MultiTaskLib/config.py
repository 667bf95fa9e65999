"""Training options: one dataclass, read from a dict, YAML or JSON, strict about keys.

The defaults are those of Huang et al. (Adam, learning rate 5e-4, weight decay 1e-4,
batch size 4). An unknown or malformed option is a :class:`ConfigError` whose message is
one line naming the option, so a typo in a config file is not silently ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd")
MONITOR_MODES = ("min", "max")


class ConfigError(ValueError):
    """A training option the user can fix; the message is one line naming it."""


@dataclass
class TrainConfig:
    """Options of :class:`MultiTaskLib.training.Trainer`.

    epochs: maximum number of epochs. lr, weight_decay, optimizer ("adam", "adamw" or
    "sgd" with ``momentum``): the optimiser; weight decay is not applied to the loss
    weighting's parameters. batch_size, num_workers: used by
    :func:`MultiTaskLib.loaders.make_loader`. patience: stop after this many epochs
    without an improvement of the monitored value by more than min_delta (None: never
    stop early). monitor: "total" (weighted total), "sum" (unweighted sum of the task
    losses), a task name or a metric name, taken from the validation split (the training
    split when there is no validation loader); monitor_mode "min" or "max".
    restore_best: load the best epoch's weights into the model when fit() returns.
    seed: seeds Python, NumPy and torch and the loader shuffling. device: "auto" (CUDA
    when available), "cpu", "cuda" or "cuda:N". grad_clip: maximum global gradient norm
    (None: no clipping). checkpoint_every: write last.pt every N epochs (and always at
    the end). log_csv: per-epoch CSV log, relative to the output folder (None: no log).
    progress: show a tqdm progress bar. find_unused_parameters: passed to
    DistributedDataParallel for models whose heads are not all used in every step.
    weighting_lr: learning rate of the loss weighting's own parameters (learned σ);
    None uses ``lr``. A short schedule may need it larger: at lr 5e-4 Adam moves log σ
    by at most about 5e-4 per step, so σ cannot follow a task loss that is 100x larger.
    """

    epochs: int = 100
    lr: float = 5e-4
    weight_decay: float = 1e-4
    batch_size: int = 4
    optimizer: str = "adam"
    momentum: float = 0.9
    patience: int | None = None
    min_delta: float = 0.0
    monitor: str = "total"
    monitor_mode: str = "min"
    restore_best: bool = True
    seed: int = 0
    device: str = "auto"
    grad_clip: float | None = None
    checkpoint_every: int = 1
    log_csv: str | None = "train_log.csv"
    num_workers: int = 0
    progress: bool = True
    find_unused_parameters: bool = False
    weighting_lr: float | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            setattr(self, field.name, _CONVERTERS[field.name](field.name, value))
        _check_ranges(self)

    @classmethod
    def from_dict(cls, options: Mapping[str, Any], source: str = "training options"
                  ) -> TrainConfig:
        """Build from a mapping; an unknown key raises :class:`ConfigError` naming it."""
        if not isinstance(options, Mapping):
            raise ConfigError(f"{source} must be a mapping of option names to values")
        known = {field.name for field in dataclasses.fields(cls)}
        for key in options:
            if key not in known:
                raise ConfigError(f"unknown training option {key!r} in {source}; valid options: "
                                  f"{', '.join(sorted(known))}")
        return cls(**dict(options))

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a YAML (.yaml/.yml) or JSON (.json) file holding the options at top level."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"training config file not found: {path}")
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        try:
            if suffix in (".yaml", ".yml"):
                import yaml

                options = yaml.safe_load(text)
            elif suffix == ".json":
                options = json.loads(text)
            else:
                raise ConfigError(f"training config {path} must end in .yaml, .yml or .json")
        except ConfigError:
            raise
        except Exception as error:  # parser errors span lines; keep the first one
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise ConfigError(f"cannot parse training config {path}: {first}") from error
        return cls.from_dict({} if options is None else options, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain-type dict (for checkpoints and logs); from_dict(to_dict()) round-trips."""
        return dataclasses.asdict(self)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"training option {name!r} must be an integer, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"training option {name!r} must be an integer, got {value!r}") from None
    if not number.is_integer():
        raise ConfigError(f"training option {name!r} must be an integer, got {value!r}")
    return int(number)


def _real(name: str, value: Any) -> float:
    # Accept strings too: YAML 1.1 reads "5e-4" (no decimal point) as a string.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"training option {name!r} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"training option {name!r} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"training option {name!r} must be finite, got {value!r}")
    return number


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"training option {name!r} must be true or false, got {value!r}")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"training option {name!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _optional(convert):
    def converter(name: str, value: Any):
        return None if value is None else convert(name, value)
    return converter


def _lower(name: str, value: Any) -> str:
    return _text(name, value).lower()


_CONVERTERS = {
    "epochs": _integer, "lr": _real, "weight_decay": _real, "batch_size": _integer,
    "optimizer": _lower, "momentum": _real, "patience": _optional(_integer),
    "min_delta": _real, "monitor": _text, "monitor_mode": _lower, "restore_best": _boolean,
    "seed": _integer, "device": _lower, "grad_clip": _optional(_real),
    "checkpoint_every": _integer, "log_csv": _optional(_text), "num_workers": _integer,
    "progress": _boolean, "find_unused_parameters": _boolean,
    "weighting_lr": _optional(_real),
}


def _check_ranges(config: TrainConfig) -> None:
    checks = [
        ("epochs", config.epochs >= 1, "must be >= 1"),
        ("lr", config.lr > 0, "must be > 0"),
        ("weight_decay", config.weight_decay >= 0, "must be >= 0"),
        ("batch_size", config.batch_size >= 1, "must be >= 1"),
        ("optimizer", config.optimizer in OPTIMIZERS, f"must be one of {', '.join(OPTIMIZERS)}"),
        ("momentum", 0 <= config.momentum < 1, "must lie in [0, 1)"),
        ("patience", config.patience is None or config.patience >= 1, "must be >= 1 or null"),
        ("min_delta", config.min_delta >= 0, "must be >= 0"),
        ("monitor_mode", config.monitor_mode in MONITOR_MODES, "must be 'min' or 'max'"),
        ("device", _valid_device(config.device), "must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
        ("grad_clip", config.grad_clip is None or config.grad_clip > 0, "must be > 0 or null"),
        ("checkpoint_every", config.checkpoint_every >= 1, "must be >= 1"),
        ("num_workers", config.num_workers >= 0, "must be >= 0"),
        ("weighting_lr", config.weighting_lr is None or config.weighting_lr > 0,
         "must be > 0 or null"),
    ]
    for name, ok, requirement in checks:
        if not ok:
            raise ConfigError(f"training option {name!r} {requirement}, got "
                              f"{getattr(config, name)!r}")


def _valid_device(device: str) -> bool:
    if device in ("auto", "cpu", "cuda"):
        return True
    prefix, _, index = device.partition(":")
    return prefix == "cuda" and index.isdigit()
