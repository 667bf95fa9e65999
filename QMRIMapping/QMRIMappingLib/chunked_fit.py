"""Run a mapping method in parts of the mask, so a GUI can show progress and cancel.

The voxel-wise methods (NLLS, two-point) give each voxel a result that depends on that
voxel only (σ comes from the whole image's background either way), so fitting the mask in
parts and merging gives the same maps as one call. :class:`ChunkedFit` yields after each
part; the caller (the Slicer module) processes GUI events in between and simply stops
iterating to cancel. Methods that cannot be split (networks) run as a single part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

import numpy as np

from .fitting import FitOptions, FitResult
from .mapping import MapOutcome
from .mapping_input import MappingInput
from .methods import method_info, run_method

DEFAULT_CHUNK_VOXELS = 1 << 15


class ChunkedFit:
    """Fit ``mapping_input`` with ``method`` in parts of at most ``chunk_voxels`` voxels.

    Iterate :meth:`steps` (each yield is ``(parts done, parts in all)``); afterwards
    :attr:`outcomes` holds ``{map name: MapOutcome}`` as ``mapping.compute_maps`` returns.
    """

    def __init__(self, mapping_input: MappingInput, method: str = "nlls",
                 options: FitOptions | None = None, mask: np.ndarray | None = None,
                 two_point_times: dict | None = None, model: str | None = None,
                 chunk_voxels: int = DEFAULT_CHUNK_VOXELS) -> None:
        self.mapping_input = mapping_input
        self.method = method
        self.options = options or FitOptions()
        self.mask = None if mask is None else np.asarray(mask, dtype=bool)
        self.two_point_times = two_point_times
        self.model = model
        self.info = method_info(method)
        shape = mapping_input.geometry.array_shape
        inside = np.ones(shape, bool) if self.mask is None else self.mask
        indices = np.flatnonzero(inside)
        if self.info.chunked and indices.size > 0:
            count = max(1, int(np.ceil(indices.size / max(1, chunk_voxels))))
            self.parts = np.array_split(indices, count)
        else:
            self.parts = [None]
        self.outcomes: dict[str, MapOutcome] | None = None

    @property
    def total(self) -> int:
        return len(self.parts)

    def steps(self) -> Iterator[tuple[int, int]]:
        """Fit part after part, yielding ``(done, total)`` after each."""
        merged: dict[str, MapOutcome] | None = None
        shape = self.mapping_input.geometry.array_shape
        for done, part in enumerate(self.parts, start=1):
            if part is None:
                part_mask = self.mask
            else:
                part_mask = np.zeros(int(np.prod(shape)), dtype=bool)
                part_mask[part] = True
                part_mask = part_mask.reshape(shape)
            outcomes = run_method(self.mapping_input, self.method, self.options, part_mask,
                                  self.two_point_times, self.model)
            merged = outcomes if merged is None else _merge(merged, outcomes, part_mask)
            if done == self.total:
                self.outcomes = merged
            yield done, self.total

    def run(self) -> dict[str, MapOutcome]:
        """Fit all parts without pausing; returns the outcomes."""
        for _ in self.steps():
            pass
        return self.outcomes


def _merge(merged: dict[str, MapOutcome], new: dict[str, MapOutcome], part: np.ndarray
           ) -> dict[str, MapOutcome]:
    """Copy the voxels of ``part`` from ``new`` into ``merged`` (in place)."""
    for name, outcome in new.items():
        target = merged[name].result
        source = outcome.result
        for item in fields(FitResult):
            values = getattr(target, item.name)
            if isinstance(values, np.ndarray) and values.shape == part.shape:
                if not values.flags.writeable:
                    values = values.copy()
                    setattr(target, item.name, values)
                values[part] = getattr(source, item.name)[part]
        target.iterations = max(target.iterations, source.iterations)
        target.warnings = list(dict.fromkeys(target.warnings + source.warnings))
    return merged

