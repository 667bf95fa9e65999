"""The evaluation config of ``qmri evaluate`` (YAML or JSON; every key optional)::

    out: build/evaluation            # tables, figures (relative to the working folder)
    models_dir: build/evaluation/models   # networks trained for the comparison (cache)
    base_config: network_base.yaml        # training config every network starts from
    installed: [homou, heteu, baseline]   # keys taken from the shipped models instead
    train_overrides: {}                   # merged into every training config (tiny runs)
    test:
      subjects: 4                    # held-out seeds 900000 ..
      snr: 30                        # liver SNR of the shared image (see docs)
      slices: 4
      matrix: 256
      motion_mm: 2.0                 # the motion-corrupted copy of the test cohort
      pair: [30, 34.6]               # TSL, TP of the 3 input images (= two-point's)
    snr_sweep: [20, 30, 50, 80]      # HOMOU / NLLS / two-point against SNR
    t2_loss_scales: [100, 10000]     # Table III
    lambdas: [0.1, 0.3, 0.7, 0.9]    # Fig. 3 (0.5 is the baseline network itself)
    label_noise_draws: 8             # repeated noise draws of one subject
    seeds: [1, 2]                    # extra training seeds of HOMOU and the baseline
    design_long_epochs: 45           # the paper's design, trained longer (design ablation)
    speed: {slices: 8, repeats: 3}
    experiments: [comparison, robustness, lambda, labels, seeds, design, speed]

Paths are relative to the config file's folder except ``out`` and ``models_dir``, which
are relative to the current folder (like ``qmri train --out``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserInputError
from ..networks.train_spec import deep_merge, read_config_file

EXPERIMENTS = ("comparison", "robustness", "lambda", "labels", "seeds", "design", "speed")

_DEFAULTS = {
    "out": "build/evaluation",
    "models_dir": "build/evaluation/models",
    "base_config": "network_base.yaml",
    "installed": ["homou", "heteu", "baseline"],
    "train_overrides": {},
    "test": {"subjects": 4, "snr": 30.0, "slices": 4, "matrix": 256, "motion_mm": 2.0,
             "pair": [30.0, 34.6]},
    "snr_sweep": [20.0, 30.0, 50.0, 80.0],
    "t2_loss_scales": [100.0, 10000.0],
    "lambdas": [0.1, 0.3, 0.7, 0.9],
    "label_noise_draws": 8,
    "seeds": [1, 2],
    "design_long_epochs": 45,
    "speed": {"slices": 8, "repeats": 3},
    "experiments": list(EXPERIMENTS),
}


@dataclass
class EvalConfig:
    """A parsed evaluation config (see the module docstring)."""

    out: Path
    models_dir: Path
    base_config: Path
    installed: list[str]
    train_overrides: dict
    test: dict
    snr_sweep: list[float]
    t2_loss_scales: list[float]
    lambdas: list[float]
    label_noise_draws: int
    seeds: list[int]
    design_long_epochs: int
    speed: dict
    experiments: list[str]
    source: str
    raw: dict = field(default_factory=dict)


def load_eval_config(path: str | Path, out: str | Path | None = None) -> EvalConfig:
    """Read and check an evaluation config; ``out`` overrides its output folder."""
    path = Path(path)
    values = read_config_file(path)
    unknown = [key for key in values if key not in _DEFAULTS]
    if unknown:
        raise UserInputError(f"{path}: unknown key {unknown[0]!r}; valid keys: "
                             f"{', '.join(_DEFAULTS)}")
    raw = deep_merge(_DEFAULTS, values)
    for key in ("test", "speed"):
        if not isinstance(raw[key], dict):
            raise UserInputError(f"{path}: {key} must be a mapping")
        bad = [k for k in raw[key] if k not in _DEFAULTS[key]]
        if bad:
            raise UserInputError(f"{path}: unknown key {key}.{bad[0]}")
    experiments = raw["experiments"]
    if not isinstance(experiments, list) or any(e not in EXPERIMENTS for e in experiments):
        raise UserInputError(f"{path}: experiments must be a list drawn from "
                             f"{', '.join(EXPERIMENTS)} (got {experiments!r})")
    test = raw["test"]
    for key in ("subjects", "slices", "matrix"):
        _positive_int(test[key], f"test.{key}", path)
    _positive_int(raw["label_noise_draws"], "label_noise_draws", path)
    _positive_int(raw["design_long_epochs"], "design_long_epochs", path)
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or any(isinstance(s, bool) or not isinstance(s, int)
                                          or s < 0 for s in seeds):
        raise UserInputError(f"{path}: seeds must be a list of non-negative integers "
                             f"(got {seeds!r})")
    for key in ("slices", "repeats"):
        _positive_int(raw["speed"][key], f"speed.{key}", path)
    pair = test["pair"]
    if not isinstance(pair, list) or len(pair) != 2:
        raise UserInputError(f"{path}: test.pair must be [TSL, TP] in ms")
    numbers_lists = {key: _numbers(raw[key], key, path)
                     for key in ("snr_sweep", "t2_loss_scales", "lambdas")}
    if any(not 0.0 <= v <= 1.0 for v in numbers_lists["lambdas"]):
        raise UserInputError(f"{path}: lambdas must lie in [0, 1]")
    if not isinstance(raw["train_overrides"], dict):
        raise UserInputError(f"{path}: train_overrides must be a mapping")
    base = Path(raw["base_config"])
    base = base if base.is_absolute() else path.parent / base
    return EvalConfig(
        out=Path(out) if out is not None else Path(raw["out"]),
        models_dir=Path(raw["models_dir"]), base_config=base,
        installed=[str(v) for v in raw["installed"] or []],
        train_overrides=raw["train_overrides"], test=test,
        snr_sweep=numbers_lists["snr_sweep"], t2_loss_scales=numbers_lists["t2_loss_scales"],
        lambdas=numbers_lists["lambdas"], label_noise_draws=raw["label_noise_draws"],
        seeds=list(dict.fromkeys(seeds)), design_long_epochs=raw["design_long_epochs"],
        speed=raw["speed"], experiments=experiments, source=str(path), raw=raw)


def _positive_int(value, name: str, path: Path) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"{path}: {name} must be a positive integer (got {value!r})")


def _numbers(values, name: str, path: Path) -> list[float]:
    if not isinstance(values, list) or any(
            isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
        raise UserInputError(f"{path}: {name} must be a list of numbers")
    return [float(v) for v in values]
