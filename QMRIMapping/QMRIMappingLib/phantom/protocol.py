"""The simulated acquisition: which images, their series names and numbers, readout.

Times are written the way a Philips scanner does for this WIP protocol: in the series
description and protocol name (``WIP T1rho_TSL10ms SENSE``, ``WIP T2prep 18.2ms SENSE``,
``WIP T1rho_T2prep TSL0 TP0 SENSE`` for the shared zero-preparation image), not in
EchoTime, which holds the constant gradient-echo readout TE. Series numbers follow a
seeded acquisition order, so neither series numbers nor file names sort by time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Readout (3 T, gradient echo): TE and TR in ms, flip angle in degrees.
READOUT_TE_MS = 2.3
READOUT_TR_MS = 5.0
FLIP_ANGLE_DEG = 10.0
MANUFACTURER = "Philips Medical Systems"
MODEL = "Achieva dStream"
FIELD_STRENGTH_T = 3.0
SHARED_DESCRIPTION = "WIP T1rho_T2prep TSL0 TP0 SENSE"


@dataclass(frozen=True)
class ImageSpec:
    """One weighted image of the protocol."""

    role: str
    time_ms: float
    description: str
    series_number: int


def series_description(role: str, time_ms: float) -> str:
    """The Philips-style series description of an image."""
    if role == "shared":
        return SHARED_DESCRIPTION
    if role == "t1rho":
        return f"WIP T1rho_TSL{time_ms:g}ms SENSE"
    if role == "t2":
        return f"WIP T2prep {time_ms:g}ms SENSE"
    raise ValueError(f"unknown role {role!r}")


def acquisition_plan(tsl_ms: tuple[float, ...], tp_ms: tuple[float, ...],
                     rng: np.random.Generator) -> list[ImageSpec]:
    """Images in logical order (shared, T1rho by time, T2 by time) with series numbers.

    A zero in either list becomes the single shared image.
    """
    entries: list[tuple[str, float]] = []
    if 0.0 in tsl_ms or 0.0 in tp_ms:
        entries.append(("shared", 0.0))
    entries += [("t1rho", float(t)) for t in sorted(tsl_ms) if t > 0.0]
    entries += [("t2", float(t)) for t in sorted(tp_ms) if t > 0.0]
    order = rng.permutation(len(entries))
    return [ImageSpec(role, time, series_description(role, time), 100 * (3 + int(order[i])) + 1)
            for i, (role, time) in enumerate(entries)]
