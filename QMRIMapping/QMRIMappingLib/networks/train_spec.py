"""The training config of ``qmri train``: one YAML/JSON file describes a whole run.

Sections (every key is optional; unknown keys are refused with their name)::

    name: homou                  # model name: weights <name>.pt, card <name>.json
    model:                       # the network (see config.py / default_config)
      architecture: homou        # baseline | homou | heteu | stsm | st
      task: null                 # T1rho | T2 for stsm / st
      base_channels: 8
      levels: 4
      norm: none                 # group | batch | none
      input_features: images     # or two_point (features.py)
      residual: false            # true: correct the two-point estimate (features.py)
      residual_smoothing_px: 0   # smooth that base first (weighted Gaussian SD, pixels)
    loss:                        # LossOptions (losses.py)
      kind: self_supervised      # or supervised (the SL baseline)
      label_mode: gt             # gt | mle | hybrid (Epstein et al.)
      hybrid_alpha: 0.5
      t2_loss_scale: 1.0         # Huang et al. Table III: x100, x10000
    weighting:                   # MultiTaskLib.weighting
      kind: uncertainty          # uncertainty (HOMOU) | dwa | fixed
      lambda: 0.5                # fixed: lambda_a of T1rho; T2 gets 1 - lambda_a
    data:
      source: phantom            # or folders
      subjects: 24               # phantom: seeds seed .. seed + subjects - 1 (< 900000)
      seed: 0
      snr_range: [20, 80]
      motion_mm_range: [0, 0]
      shim_artifact_fraction: 0.5
      matrix: 256
      slices: 4
      folders: []                # source folders: 4+4 protocol folders (as qmri fit)
      times_file: null           # override file for every folder
      crop: 128                  # random training crops (null: whole slices)
      repeats: 1                 # visits of every slice per epoch
      max_rotation_deg: 5.0      # augmentation (Huang et al.: small rotations ...)
      max_shift_fraction: 0.05   # ... and translations
    validation:
      folds: 4                   # k-fold cross-validation by subject
      fold: 0                    # which fold validates (0 .. folds - 1)
    training:                    # MultiTaskLib TrainConfig: epochs, lr, weight_decay,
      epochs: 30                 # batch_size, patience, seed, device, ...
    threads: null                # torch CPU threads (null: torch's default)

The paper's optimiser defaults (Adam, lr 5e-4, weight decay 1e-4, batch 4) are
TrainConfig's defaults. ``validation.folds: 1`` trains on every subject without
validation (early stopping then watches the training loss).
"""

from __future__ import annotations

import copy
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from MultiTaskLib.config import ConfigError, TrainConfig

from ..errors import UserInputError
from .config import SINGLE_TASK_ARCHITECTURES, TASKS, default_config, validate_config
from .losses import LossOptions

SECTIONS = ("name", "model", "loss", "weighting", "data", "validation", "training", "threads")
WEIGHTINGS = ("uncertainty", "dwa", "fixed")
SOURCES = ("phantom", "folders")

_DEFAULTS: dict[str, Any] = {
    "name": "model",
    "model": {"architecture": "homou", "task": None, "base_channels": 8, "levels": 4,
              "norm": "none", "film_features": 32, "input_features": "images",
              "residual": False, "residual_smoothing_px": 0.0},
    "loss": {"kind": "self_supervised", "label_mode": "gt", "hybrid_alpha": 0.5,
             "t2_loss_scale": 1.0},
    "weighting": {"kind": None, "lambda": 0.5, "temperature": 2.0, "init_sigma": 1.0},
    "data": {"source": "phantom", "subjects": 24, "seed": 0, "snr_range": [20.0, 80.0],
             "motion_mm_range": [0.0, 0.0], "shim_artifact_fraction": 0.5, "matrix": 256,
             "slices": 4, "folders": [], "times_file": None, "crop": 128, "repeats": 1,
             "max_rotation_deg": 5.0, "max_shift_fraction": 0.05},
    "validation": {"folds": 4, "fold": 0},
    "training": {},
    "threads": None,
}


@dataclass
class TrainSpec:
    """A parsed, validated training config (see the module docstring)."""

    name: str
    network: dict
    loss: LossOptions
    weighting: dict
    data: dict
    validation: dict
    training: TrainConfig
    threads: int | None
    raw: dict
    source: str

    @property
    def tasks(self) -> list[str]:
        return list(self.network["tasks"])

    def to_dict(self) -> dict:
        """The complete config with every default filled in (for the model card)."""
        return copy.deepcopy(self.raw)


def deep_merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` merged in, nested dicts key by key (copies)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_config_file(path: str | Path) -> dict:
    """The mapping stored in a YAML (.yaml/.yml) or JSON file; one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"training config {path} not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(text)
        elif path.suffix.lower() == ".json":
            values = json.loads(text)
        else:
            raise UserInputError(f"training config {path} must end in .yaml, .yml or .json")
    except UserInputError:
        raise
    except Exception as error:  # parser messages span lines; keep the first
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserInputError(f"cannot parse {path}: {first}") from error
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise UserInputError(f"{path} must hold a mapping of sections (model, loss, ...)")
    return values


def load_spec(path: str | Path, overrides: dict | None = None) -> TrainSpec:
    """Read and validate a training config file (``overrides`` merged on top)."""
    values = read_config_file(path)
    if overrides:
        values = deep_merge(values, overrides)
    relative = values.get("data", {}) if isinstance(values.get("data"), dict) else {}
    base = Path(path).parent
    for key in ("folders",):  # folder paths are relative to the config file
        if isinstance(relative.get(key), list):
            relative[key] = [str(p if Path(p).is_absolute() else base / p)
                             for p in relative[key]]
    if isinstance(relative.get("times_file"), str) and not Path(
            relative["times_file"]).is_absolute():
        relative["times_file"] = str(base / relative["times_file"])
    values.setdefault("name", Path(path).stem)
    return parse_spec(values, str(path))


def parse_spec(values: dict, source: str = "training config") -> TrainSpec:
    """Validate a config mapping and fill in the defaults."""
    if not isinstance(values, dict):
        raise UserInputError(f"{source} must be a mapping of sections")
    unknown = [key for key in values if key not in SECTIONS]
    if unknown:
        raise UserInputError(f"{source}: unknown section {unknown[0]!r}; valid sections: "
                             f"{', '.join(SECTIONS)}")
    raw = {}
    for section in SECTIONS:
        default = _DEFAULTS[section]
        given = values.get(section)
        if isinstance(default, dict):
            given = {} if given is None else given
            if not isinstance(given, dict):
                raise UserInputError(f"{source}: section {section!r} must be a mapping")
            if section != "training":
                bad = [key for key in given if key not in default]
                if bad:
                    raise UserInputError(f"{source}: unknown key {section}.{bad[0]}; valid: "
                                         f"{', '.join(default)}")
            raw[section] = deep_merge(default, given)
        else:
            raw[section] = default if given is None else given
    name = raw["name"]
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise UserInputError(f"{source}: name must be letters, digits, '-', '_' or '.' "
                             f"(got {name!r})")
    network = _network(raw["model"], source)
    loss = _loss(raw["loss"], source)
    weighting = _weighting(raw["weighting"], network, loss, source)
    raw["weighting"]["kind"] = weighting["kind"]
    data = _data(raw["data"], source)
    validation = _validation(raw["validation"], data, source)
    try:
        training = TrainConfig.from_dict(raw["training"], source=f"{source}: training")
    except ConfigError as error:
        raise UserInputError(str(error)) from None
    raw["training"] = training.to_dict()
    threads = raw["threads"]
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise UserInputError(f"{source}: threads must be a positive integer or null "
                             f"(got {threads!r})")
    return TrainSpec(name=name, network=network, loss=loss, weighting=weighting, data=data,
                     validation=validation, training=training, threads=threads, raw=raw,
                     source=source)


def _network(section: dict, source: str) -> dict:
    options = dict(section)
    architecture, task = options.pop("architecture"), options.pop("task")
    film = options.pop("film_features")
    try:
        config = default_config(architecture, task, **options)
        config["film_features"] = film
        return validate_config(config)
    except TypeError as error:
        raise UserInputError(f"{source}: model: {error}") from None
    except UserInputError as error:
        raise UserInputError(f"{source}: model: {error}") from None


def _loss(section: dict, source: str) -> LossOptions:
    try:
        return LossOptions(kind=section["kind"], label_mode=section["label_mode"],
                           hybrid_alpha=float(section["hybrid_alpha"]),
                           t2_loss_scale=float(section["t2_loss_scale"]))
    except (TypeError, ValueError) as error:
        raise UserInputError(f"{source}: loss: {error}") from None


def _weighting(section: dict, network: dict, loss: LossOptions, source: str) -> dict:
    tasks = network["tasks"]
    kind = section["kind"]
    if kind is None:  # the architecture's own: HOMOU learns sigma, the rest are fixed
        kind = "uncertainty" if network["architecture"] == "homou" else "fixed"
    if kind not in WEIGHTINGS:
        raise UserInputError(f"{source}: weighting.kind {kind!r} is unknown; use one of "
                             f"{', '.join(WEIGHTINGS)}")
    lam = section["lambda"]
    if not isinstance(lam, numbers.Real) or isinstance(lam, bool) or not 0.0 <= lam <= 1.0:
        raise UserInputError(f"{source}: weighting.lambda must lie in [0, 1] (got {lam!r})")
    if network["architecture"] in SINGLE_TASK_ARCHITECTURES and kind != "fixed":
        raise UserInputError(f"{source}: a single-task {network['architecture']} network has "
                             "nothing to weigh; use weighting.kind fixed")
    if network["architecture"] == "heteu" and kind == "uncertainty":
        raise UserInputError(f"{source}: HETEU's uncertainty is per pixel; combine its tasks "
                             "with weighting.kind fixed (or dwa)")
    if loss.kind == "supervised" and network["architecture"] == "heteu":
        raise UserInputError(f"{source}: train HETEU with the self-supervised loss")
    return {"kind": kind, "lambda": float(lam), "temperature": float(section["temperature"]),
            "init_sigma": float(section["init_sigma"]), "tasks": list(tasks)}


def _data(section: dict, source: str) -> dict:
    data = dict(section)
    if data["source"] not in SOURCES:
        raise UserInputError(f"{source}: data.source must be one of {', '.join(SOURCES)} "
                             f"(got {data['source']!r})")
    for key in ("subjects", "matrix", "slices", "repeats"):
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserInputError(f"{source}: data.{key} must be a positive integer "
                                 f"(got {value!r})")
    if isinstance(data["seed"], bool) or not isinstance(data["seed"], int) or data["seed"] < 0:
        raise UserInputError(f"{source}: data.seed must be a non-negative integer")
    crop = data["crop"]
    if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int) or crop < 16):
        raise UserInputError(f"{source}: data.crop must be an integer >= 16 or null")
    for key in ("snr_range", "motion_mm_range"):
        value = data[key]
        if (not isinstance(value, list | tuple) or len(value) != 2
                or not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in value)):
            raise UserInputError(f"{source}: data.{key} must be [low, high]")
        data[key] = [float(v) for v in value]
    if data["source"] == "folders":
        folders = data["folders"]
        if not isinstance(folders, list) or not folders:
            raise UserInputError(f"{source}: data.source folders needs a non-empty "
                                 "data.folders list")
        data["subjects"] = len(folders)
    return data


def _validation(section: dict, data: dict, source: str) -> dict:
    folds, fold = section["folds"], section["fold"]
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise UserInputError(f"{source}: validation.folds must be a positive integer")
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < folds:
        raise UserInputError(f"{source}: validation.fold must lie in 0..{folds - 1} "
                             f"(got {fold!r})")
    if folds > data["subjects"]:
        raise UserInputError(f"{source}: {folds} folds need at least {folds} subjects "
                             f"(have {data['subjects']})")
    return {"folds": folds, "fold": fold}


def fold_subjects(n_subjects: int, folds: int, fold: int) -> tuple[list[int], list[int]]:
    """(training, validation) subject indices of k-fold cross-validation by subject.

    Subject i belongs to fold i mod k, so every fold mixes the cohort's SNR and motion
    draws; with k = 1 every subject trains and none validates.
    """
    if folds == 1:
        return list(range(n_subjects)), []
    validation = [i for i in range(n_subjects) if i % folds == fold]
    return [i for i in range(n_subjects) if i % folds != fold], validation


__all__ = ["TASKS", "TrainSpec", "deep_merge", "fold_subjects", "load_spec", "parse_spec",
           "read_config_file"]
