"""Argument checks for the phantom generator, each failing with a one-line
UserInputError that names the parameter."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable

from ..errors import UserInputError

MAX_MATRIX = 1024
MAX_SLICES = 64
MAX_TIME_MS = 1000.0
MAX_MOTION_MM = 20.0
_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_int(name: str, value: object, low: int, high: int) -> int:
    """An integer in ``[low, high]`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UserInputError(f"{name} must be an integer (got {value!r})")
    if not low <= int(value) <= high:
        raise UserInputError(f"{name} must be between {low} and {high} (got {value})")
    return int(value)


def check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise UserInputError(f"seed must be a non-negative integer (got {value!r})")
    return int(value)


def check_snr(value: object) -> float:
    """A positive number; ``inf`` means noise-free images."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) \
            or value <= 0:
        raise UserInputError(f"snr must be a positive number, or inf for no noise "
                             f"(got {value!r})")
    return float(value)


def check_motion(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or not 0.0 <= value <= MAX_MOTION_MM:
        raise UserInputError(f"motion_mm must be a number between 0 and {MAX_MOTION_MM:g} "
                             f"(got {value!r})")
    return float(value)


def check_times(name: str, values: object) -> tuple[float, ...]:
    """Distinct, finite preparation times in ``[0, MAX_TIME_MS]`` ms."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise UserInputError(f"{name} must be a sequence of times in ms (got {values!r})")
    times = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                or not 0.0 <= v <= MAX_TIME_MS:
            raise UserInputError(f"{name} must hold times between 0 and {MAX_TIME_MS:g} ms "
                                 f"(got {v!r})")
        times.append(float(v))
    if len(set(times)) != len(times):
        raise UserInputError(f"{name} has a repeated time ({list(times)})")
    return tuple(times)


def check_protocol(tsl_ms: tuple[float, ...], tp_ms: tuple[float, ...]) -> None:
    """At least one prepared (non-zero) time overall."""
    if not any(t > 0 for t in (*tsl_ms, *tp_ms)):
        raise UserInputError("tsl_ms and tp_ms hold no non-zero preparation time; "
                             "give at least one")


def check_subject_id(value: object, seed: int) -> str:
    if value is None:
        return f"phantom{seed:04d}"
    if not isinstance(value, str) or not _SUBJECT_ID.match(value):
        raise UserInputError("subject_id must be 1-64 letters, digits, '_', '.' or '-' "
                             f"starting with a letter or digit (got {value!r})")
    return value


def check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UserInputError(f"{name} must be True or False (got {value!r})")
    return value
