"""A candidate weighted volume: what an importer found before roles are settled.

Each reader (DICOM folder, NIfTI folder, 4-D NIfTI) turns its input into a list of
:class:`Volume` objects. The time rules, the override file and the role rules then fill in
``time_ms``/``role`` and the reasons, and only the volumes that end up in the mapping set
have their pixels read (``load``), so a folder with many unrelated series stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..geometry import Geometry

#: ``load()`` returns the float32 array ``[z, y, x]`` and a sentence on how stored values
#: were scaled (empty when nothing was done).
Loader = Callable[[], tuple[np.ndarray, str]]


@dataclass
class Volume:
    """One 3-D weighted volume found in the input.

    ``label`` names it for people (``series 7 'WIP T1rho_TSL10ms SENSE'``), ``files`` are
    the files holding its pixels, ``keys`` the exact strings an override row may use to
    name it (SeriesInstanceUID, SeriesNumber, SeriesDescription, file names) and
    ``paths`` the input-relative paths (files and their folders) an override glob may
    match. ``info`` keeps header facts the rules need (description, echo time, scanning
    sequence ...). ``problem`` is an error that is raised only if no override row
    resolves it; ``skip`` is why the volume is left out (a note, not an error).
    """

    label: str
    files: list[Path]
    geometry: Geometry
    load: Loader
    keys: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    group_key: tuple = ()
    time_ms: float | None = None
    time_source: str = ""
    time_reason: str = ""
    role: str | None = None
    role_reason: str = ""
    from_override: bool = False
    problem: str | None = None
    skip: str | None = None

    @property
    def first_file(self) -> str:
        """The input-relative path of the first file, for messages."""
        return self.info.get("first_file") or (self.files[0].name if self.files else "")

    def apply_decision(self, decision) -> None:
        """Copy a :class:`~.time_rules.TimeDecision` into this volume."""
        self.time_ms = decision.time_ms
        self.role = decision.role
        self.time_source = decision.source
        self.time_reason = decision.time_reason
        self.role_reason = decision.role_reason
        self.problem = decision.problem
        self.skip = decision.skip

    def describe_source(self) -> str:
        """``label (first file)`` — names both the series and a file to look at."""
        first = self.first_file
        return f"{self.label} ({first})" if first and first not in self.label else self.label


def relative_paths(files: list[Path], root: Path) -> list[str]:
    """Input-relative POSIX paths of ``files`` and of every folder between them and ``root``.

    These are what an override row's path or glob is matched against.
    """
    found: list[str] = []
    seen: set[str] = set()
    for path in files:
        try:
            rel = path.relative_to(root)
        except ValueError:
            rel = Path(path.name)
        candidates = [rel.as_posix()] + [p.as_posix() for p in rel.parents if p != Path(".")]
        for text in candidates:
            if text not in seen:
                seen.add(text)
                found.append(text)
    return found
