"""Checks on the chosen mapping set; each failure is a one-line :class:`UserInputError`.

* every map needs at least two time points, and no two images of one map may share a time;
* times that are all below 1 with a maximum above 0 are seconds written where
  milliseconds were meant;
* all images must share one grid (size, spacing, orientation, position);
* pixel values must be finite, non-negative and not all zero (magnitude images).
"""

from __future__ import annotations

import numpy as np

from ..errors import UserInputError
from .roles import Selection
from .time_rules import fmt_ms
from .volume import Volume

TIME_LABELS = {"T1rho": "TSL", "T2": "T2-prep", "T2star": "TE", "echo": "TE"}
SOURCE_WORDS = {
    "override": "the override file",
    "description": "the series descriptions",
    "private tag": "a private tag",
    "trigger": "TriggerTime",
    "echo": "EchoTime",
    "sidecar": "the JSON sidecars",
}


def map_sets(selection: Selection) -> dict[str, list[Volume]]:
    """The volumes feeding each map, sorted by time (same rule as ``MappingInput``)."""
    if selection.kind == "multi-echo":
        return {selection.echo_map or "T2": sorted(selection.volumes, key=lambda v: v.time_ms)}
    shared = [v for v in selection.volumes if v.role == "shared"]
    sets = {}
    for role, name in (("t1rho", "T1rho"), ("t2", "T2")):
        own = [v for v in selection.volumes if v.role == role]
        if own:
            sets[name] = sorted(shared + own, key=lambda v: v.time_ms)
    return sets


def check_times(selection: Selection, where: str) -> None:
    """Time-point count, duplicates and seconds-for-milliseconds in every map's set."""
    sets = map_sets(selection)
    if not sets:
        raise UserInputError(f"only the shared zero image was found in {where}; add T1rho "
                             "(TSL) or T2-prepared images")
    for name, volumes in sets.items():
        label = TIME_LABELS.get("echo" if selection.kind == "multi-echo" else name, "time")
        if len(volumes) < 2:
            only = volumes[0]
            raise UserInputError(
                f"only one time point ({label} {fmt_ms(only.time_ms)} ms, {only.label}) for "
                f"{name} in {where}; a map needs at least 2")
        for first, second in zip(volumes, volumes[1:], strict=False):
            if abs(first.time_ms - second.time_ms) < 1e-6:
                raise UserInputError(
                    f"duplicate times: two {name} images have {label} {fmt_ms(first.time_ms)} ms: "
                    f"{first.describe_source()} and {second.describe_source()}; remove one or "
                    "set the right times in an override file")
        times = [v.time_ms for v in volumes]
        if max(times) < 1 and max(times) > 0:
            sources = sorted({SOURCE_WORDS.get(v.time_source, v.time_source) for v in volumes
                              if v.time_ms > 0})
            raise UserInputError(
                f"{name} times in {where} look like seconds ({', '.join(fmt_ms(t) for t in times)}"
                f", from {' and '.join(sources)}) where milliseconds are expected; give them "
                "in ms (e.g. 10 for 10 ms)")


def check_geometry(volumes: list[Volume]) -> None:
    """All volumes on the first one's grid, else an error naming both files."""
    reference = volumes[0]
    for volume in volumes[1:]:
        difference = reference.geometry.mismatch(volume.geometry)
        if difference:
            raise UserInputError(
                f"{volume.describe_source()} is not on the grid of "
                f"{reference.describe_source()}: {difference}; all images of a map must share "
                "size, spacing, orientation and position (resample or re-export them)")


def check_values(volume: Volume, data: np.ndarray) -> None:
    """Finite, non-negative, not all zero."""
    if np.isnan(data).any() or np.isinf(data).any():
        raise UserInputError(f"{volume.describe_source()} contains NaN or infinite values; "
                             "export magnitude images without masking them with NaN")
    if not data.any():
        raise UserInputError(f"{volume.describe_source()} is all zero; check the export "
                             "(or leave it out with role skip in an override file)")
    lowest = float(data.min())
    if lowest < 0:
        raise UserInputError(f"{volume.describe_source()} has negative values (min "
                             f"{lowest:g}); magnitude images are expected, not phase or "
                             "difference images")
