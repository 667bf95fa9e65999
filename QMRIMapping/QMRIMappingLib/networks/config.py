"""The JSON-serialisable description of a mapping network, so shipped weights rebuild exactly.

A config is a plain dict (see :func:`default_config`)::

    architecture      "baseline" | "homou" | "heteu" | "stsm" | "st"
    tasks             ["T1rho", "T2"] for the multi-task nets, one of them for stsm/st
    base_channels     feature maps at the first U-Net level (doubled at every level)
    levels            U-Net levels (levels - 1 poolings)
    norm              "group" | "batch" | "none": normalisation inside the conv blocks
    film_features     width of the time embedding that drives FiLM conditioning
    bounds_ms         {task: [T_min, T_max]}: the output range of each map, in ms
    log_scale_bounds  [low, high] of the HETEU log-scale (natural log, normalised units)
    trained_pairs_ms  [[TSL, TP], ...]: the input time pairs the model was trained on
    normalisation     {"method": "foreground_percentile", "percentile": 99.0,
                       "foreground_fraction": 0.05} (see ``normalisation.py``)
    input_features    "images" (the paper's input) or "two_point" (adds log T2pt
                      channels, ``features.py``); optional, default "images"
    residual          true: output = correction to the two-point estimate
                      (``features.py``); optional, default false
    residual_smoothing_px  SD (pixels) of the weighted Gaussian smoothing of the
                      residual's two-point base (0: none); optional, default 0
    version           config format version

HOMOU is the baseline network; its two learnable log-scales live in MultiTaskLib's
``UncertaintyWeighting`` (Huang et al., arXiv 2303.07623, homoscedastic weighting), so the
architecture name only records how it was trained.
"""

from __future__ import annotations

import copy
import json
import math
import numbers

from ..errors import UserInputError
from .features import FEATURE_MODES

CONFIG_VERSION = 1
TASKS = ("T1rho", "T2")
MULTI_TASK_ARCHITECTURES = ("baseline", "homou", "heteu")
SINGLE_TASK_ARCHITECTURES = ("stsm", "st")
ARCHITECTURES = MULTI_TASK_ARCHITECTURES + SINGLE_TASK_ARCHITECTURES
NORMS = ("group", "batch", "none")

#: The input pairs (TSL, TP) in ms of Huang et al.: the k-th spin-lock image goes with the
#: k-th T2-prepared image.
PAPER_PAIRS_MS = ((10.0, 18.2), (30.0, 34.6), (50.0, 51.0))

#: Which input time belongs to which task: index 0 is TSL (T1rho), 1 is TP (T2).
TIME_INDEX = {"T1rho": 0, "T2": 1}
TIME_NAMES = {"T1rho": "TSL", "T2": "TP"}

#: Output range in ms. 5 ms keeps exp((t_j - t_i)/T) of the relaxation loss below e^10.2
#: for the 51 ms protocol span; 2000 ms matches the NLLS engine's upper bound.
DEFAULT_BOUNDS_MS = (5.0, 2000.0)
DEFAULT_LOG_SCALE_BOUNDS = (-7.0, 3.0)
DEFAULT_NORMALISATION = {"method": "foreground_percentile", "percentile": 99.0,
                         "foreground_fraction": 0.05}


def default_config(architecture: str = "baseline", task: str | None = None, *,
                   base_channels: int = 16, levels: int = 4, norm: str = "group",
                   trained_pairs_ms=PAPER_PAIRS_MS, input_features: str = "images",
                   residual: bool = False, residual_smoothing_px: float = 0.0) -> dict:
    """A complete, validated config for ``architecture``.

    ``task`` ("T1rho" or "T2") is required for the single-task architectures and refused
    for the multi-task ones.
    """
    if architecture in SINGLE_TASK_ARCHITECTURES:
        if task not in TASKS:
            raise UserInputError(f"architecture {architecture!r} maps one task: give task "
                                 f"'T1rho' or 'T2' (got {task!r})")
        tasks = [task]
    else:
        if task is not None:
            raise UserInputError(f"architecture {architecture!r} maps both T1rho and T2; "
                                 f"do not give a task (got {task!r})")
        tasks = list(TASKS)
    config = {
        "architecture": architecture,
        "tasks": tasks,
        "base_channels": base_channels,
        "levels": levels,
        "norm": norm,
        "film_features": 32,
        "bounds_ms": {name: list(DEFAULT_BOUNDS_MS) for name in tasks},
        "log_scale_bounds": list(DEFAULT_LOG_SCALE_BOUNDS),
        "trained_pairs_ms": [[float(a), float(b)] for a, b in trained_pairs_ms],
        "normalisation": dict(DEFAULT_NORMALISATION),
        "input_features": input_features,
        "residual": residual,
        "residual_smoothing_px": residual_smoothing_px,
        "version": CONFIG_VERSION,
    }
    return validate_config(config)


def validate_config(config: dict) -> dict:
    """Check ``config`` and return a deep copy; raises UserInputError naming the bad key."""
    if not isinstance(config, dict):
        raise UserInputError(f"a network config must be a dict (got {type(config).__name__})")
    config = copy.deepcopy(config)
    config.setdefault("input_features", "images")
    config.setdefault("residual", False)
    config.setdefault("residual_smoothing_px", 0.0)
    smoothing = config["residual_smoothing_px"]
    if not _finite(smoothing) or not 0.0 <= smoothing <= 10.0:
        raise UserInputError(f"residual_smoothing_px must lie in [0, 10] (got {smoothing!r})")
    config["residual_smoothing_px"] = float(smoothing)
    if config["input_features"] not in FEATURE_MODES:
        raise UserInputError(f"input_features {config['input_features']!r} is unknown; use "
                             f"one of {FEATURE_MODES}")
    if not isinstance(config["residual"], bool):
        raise UserInputError(f"residual must be true or false (got {config['residual']!r})")
    missing = [key for key in ("architecture", "tasks", "base_channels", "levels", "norm",
                               "film_features", "bounds_ms", "log_scale_bounds",
                               "trained_pairs_ms", "normalisation") if key not in config]
    if missing:
        raise UserInputError(f"network config lacks {', '.join(missing)}; start from "
                             "default_config()")
    architecture = config["architecture"]
    if architecture not in ARCHITECTURES:
        raise UserInputError(f"unknown architecture {architecture!r}; use one of "
                             f"{', '.join(ARCHITECTURES)}")
    tasks = config["tasks"]
    expected = 1 if architecture in SINGLE_TASK_ARCHITECTURES else 2
    if (not isinstance(tasks, list) or len(tasks) != expected or len(set(tasks)) != expected
            or any(task not in TASKS for task in tasks)):
        raise UserInputError(f"{architecture} needs {expected} distinct task(s) from "
                             f"{list(TASKS)} (got {tasks!r})")
    _positive_int(config, "base_channels", 1, 256)
    _positive_int(config, "levels", 2, 6)
    _positive_int(config, "film_features", 1, 1024)
    if config["norm"] not in NORMS:
        raise UserInputError(f"norm {config['norm']!r} is unknown; use one of {NORMS}")
    for task in tasks:
        _check_range(config["bounds_ms"].get(task) if isinstance(config["bounds_ms"], dict)
                     else None, f"bounds_ms[{task}]", positive=True)
    _check_range(config["log_scale_bounds"], "log_scale_bounds", positive=False)
    pairs = config["trained_pairs_ms"]
    if not isinstance(pairs, list) or not pairs or any(
            not isinstance(p, list | tuple) or len(p) != 2 or not all(_finite(t) and t > 0
                                                                        for t in p)
            for p in pairs):
        raise UserInputError("trained_pairs_ms must be a non-empty list of [TSL, TP] pairs "
                             f"of positive times in ms (got {pairs!r})")
    config["trained_pairs_ms"] = [[float(a), float(b)] for a, b in pairs]
    json.dumps(config)  # must stay serialisable
    return config


def trained_range(config: dict, task: str) -> tuple[float, float]:
    """(lowest, highest) trained preparation time in ms of ``task``'s input image."""
    times = [pair[TIME_INDEX[task]] for pair in config["trained_pairs_ms"]]
    return min(times), max(times)


def _positive_int(config: dict, key: str, low: int, high: int) -> None:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not low <= value <= high:
        raise UserInputError(f"{key} must be an integer between {low} and {high} "
                             f"(got {value!r})")


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and math.isfinite(value)


def _check_range(value: object, name: str, positive: bool) -> None:
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(_finite(v) for v in value) or not value[0] < value[1]
            or (positive and value[0] <= 0)):
        kind = "0 < low < high" if positive else "low < high"
        raise UserInputError(f"{name} must be [low, high] with {kind} (got {value!r})")
