"""What the importers hand to the fitter: weighted images with their times, roles and reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import Geometry

#: Roles an image can play. ``shared`` is the zero-preparation image that a T1rho and a
#: T2-prepared series share (Huang et al. protocol); ``echo`` is one echo of a plain
#: multi-echo series.
ROLES = ("shared", "t1rho", "t2", "echo")

#: Map name produced from each role set.
PREPARED_MAPS = {"t1rho": "T1rho", "t2": "T2"}
ECHO_MAP_NAMES = ("T2", "T2star")


@dataclass
class WeightedImage:
    """One weighted volume: pixel data on a grid, its weighting time and its role.

    ``data`` is float32 indexed ``[z, y, x]``. ``time_ms`` is the echo, spin-lock or
    T2-preparation time in milliseconds. ``reason`` says in words how the time and role
    were decided, so ``qmri inspect`` can explain itself.
    """

    data: np.ndarray
    time_ms: float
    role: str
    source: str
    geometry: Geometry
    reason: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass
class MappingInput:
    """A complete set of weighted images ready to fit.

    ``kind`` is ``"prepared"`` (T1rho and/or T2-prepared images, maybe with a shared
    zero image) or ``"multi-echo"``. ``echo_map`` names the map of a multi-echo series
    (``"T2"`` for spin echo, ``"T2star"`` for gradient echo). ``notes`` collects what the
    importer skipped or decided along the way.
    """

    images: list[WeightedImage]
    kind: str
    source: str
    echo_map: str | None = None
    echo_map_reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def geometry(self) -> Geometry:
        return self.images[0].geometry

    def map_series(self) -> dict[str, list[WeightedImage]]:
        """The images that feed each map, sorted by time.

        A prepared input gives ``T1rho`` from shared + t1rho images and ``T2`` from
        shared + t2 images; a multi-echo input gives one map named ``echo_map``.
        """
        if self.kind == "multi-echo":
            echoes = sorted((im for im in self.images if im.role == "echo"),
                            key=lambda im: im.time_ms)
            return {self.echo_map or "T2": echoes}
        shared = [im for im in self.images if im.role == "shared"]
        series: dict[str, list[WeightedImage]] = {}
        for role, name in PREPARED_MAPS.items():
            own = [im for im in self.images if im.role == role]
            if own:
                series[name] = sorted(shared + own, key=lambda im: im.time_ms)
        return series

    def stack(self, images: list[WeightedImage]) -> tuple[np.ndarray, np.ndarray]:
        """Stack images into ``(n_times, z, y, x)`` float32 and their times in ms."""
        data = np.stack([im.data.astype(np.float32, copy=False) for im in images])
        times = np.asarray([im.time_ms for im in images], dtype=np.float64)
        return data, times
