"""The user's override file: times and roles that always win over the automatic rules.

Formats
-------
* CSV with the header ``series,time_ms,role`` (``role`` may be left empty; lines starting
  with ``#`` are comments)::

      series,time_ms,role
      WIP T1rho_TSL10ms SENSE,10,t1rho
      7,30,t1rho
      1.2.840.99.1.7,0,shared
      t2prep/*,40,t2
      survey,,skip

* JSON or YAML: a list of ``{series, time_ms, role}`` mappings, or a mapping with that list
  under ``series`` and, optionally, extra tag rules under ``private_tags`` (see
  :mod:`.time_rules`).

``series`` names one image by, in order of checking: SeriesInstanceUID, SeriesNumber,
exact SeriesDescription, NIfTI file name or stem (``x.nii.gz``, ``x``; a 4-D file's volume
as ``x.nii.gz[2]``, counting from 0), or a path/glob relative to the input folder matched
against each file and each folder above it. ``role`` is ``t1rho``, ``t2``, ``shared``,
``echo`` or ``skip`` (leave the image out); empty keeps the detected role (``echo`` when
none). ``time_ms`` is in milliseconds.

Each row must match exactly one image and each image at most one row; a row that matches
nothing, or several images, is an error that names the row. Images not named in the file
keep their automatic times and roles.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserInputError
from .time_rules import PrivateTagRule, fmt_ms, rules_from_entries
from .volume import Volume

ROLE_ALIASES = {
    "t1rho": "t1rho", "t1r": "t1rho", "t1ρ": "t1rho", "tsl": "t1rho", "spinlock": "t1rho",
    "t2": "t2", "t2prep": "t2", "t2-prep": "t2", "t2p": "t2",
    "shared": "shared", "echo": "echo", "skip": "skip", "ignore": "skip", "exclude": "skip",
}


@dataclass(frozen=True)
class OverrideRow:
    """One row: which image (``series``), its time in ms and role (None = keep detected)."""

    series: str
    time_ms: float | None
    role: str | None
    where: str


@dataclass
class Overrides:
    """A parsed override file."""

    path: Path
    rows: list[OverrideRow] = field(default_factory=list)
    private_tags: list[PrivateTagRule] = field(default_factory=list)


def load_overrides(path: str | Path) -> Overrides:
    """Read and check an override file (CSV, JSON or YAML)."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"override file {path} does not exist; give a CSV with header "
                             "series,time_ms,role (or .json/.yaml)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return Overrides(path, _csv_rows(path))
    if suffix in (".json", ".yaml", ".yml"):
        return _structured(path)
    raise UserInputError(f"override file {path} has an unknown type; use .csv (header "
                         "series,time_ms,role), .json or .yaml")


def apply_overrides(volumes: list[Volume], overrides: Overrides) -> list[str]:
    """Give the matched volumes the rows' times and roles; return a note for the summary."""
    matched_by: dict[int, OverrideRow] = {}
    for row in overrides.rows:
        hits = [v for v in volumes if _matches(row.series, v)]
        label = f"override file {overrides.path.name} {row.where} (series '{row.series}')"
        if not hits:
            raise UserInputError(
                f"{label} matches no image in the input; use a SeriesInstanceUID, "
                "SeriesNumber, exact SeriesDescription, file name, or a path/glob relative "
                "to the input folder")
        if len(hits) > 1:
            names = ", ".join(v.label for v in hits[:4])
            raise UserInputError(
                f"{label} matches {len(hits)} images ({names}); name one image, e.g. by a "
                "file path or SeriesInstanceUID")
        volume = hits[0]
        if id(volume) in matched_by:
            raise UserInputError(
                f"{label} and {matched_by[id(volume)].where} both name {volume.label}; keep one")
        matched_by[id(volume)] = row
        _apply(volume, row, label)
    if not overrides.rows:
        return []
    return [f"override file {overrides.path.name}: {len(overrides.rows)} row(s) applied; "
            "they win over the automatic rules"]


def _apply(volume: Volume, row: OverrideRow, label: str) -> None:
    volume.from_override = True
    volume.problem = None
    if row.role == "skip":
        volume.skip = f"skipped by {label}"
        return
    role = row.role or (volume.role if volume.role else "echo")
    kept = "" if row.role else " (role as detected)" if volume.role else " (no role detected: echo)"
    volume.skip = None
    volume.time_ms = float(row.time_ms)
    volume.time_source = "override"
    volume.time_reason = f"{fmt_ms(row.time_ms)} ms from {label}; the override file always wins"
    volume.role = role
    volume.role_reason = f"{role}: from {label}{kept}"


def _matches(pattern: str, volume: Volume) -> bool:
    text = pattern.strip()
    if text in volume.keys:
        return True
    if text.isdigit() and any(k.isdigit() and int(k) == int(text) for k in volume.keys):
        return True
    glob = text.replace("\\", "/").removeprefix("./").rstrip("/")
    if not glob:
        return False
    return any(path == glob or fnmatch.fnmatchcase(path, glob) for path in volume.paths)


def _csv_rows(path: Path) -> list[OverrideRow]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = [(number, line) for number, line in enumerate(handle, start=1)
                 if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UserInputError(f"override file {path} is empty; write the header "
                             "series,time_ms,role and one row per image")
    reader = csv.reader([line for _, line in lines], skipinitialspace=True)
    rows = list(reader)
    header = [cell.strip().lower() for cell in rows[0]]
    if "series" not in header or "time_ms" not in header:
        raise UserInputError(f"override file {path} must start with the header "
                             f"series,time_ms,role (found: {','.join(rows[0])})")
    index = {name: header.index(name) for name in ("series", "time_ms", "role") if name in header}
    found = []
    for (number, _), cells in zip(lines[1:], rows[1:], strict=True):
        def cell(name: str, cells: list[str] = cells) -> str:
            position = index.get(name)
            return cells[position].strip() if position is not None and position < len(cells) else ""
        found.append(_row(cell("series"), cell("time_ms"), cell("role"), f"line {number}", path))
    return found


def _structured(path: Path) -> Overrides:
    try:
        with open(path, encoding="utf-8") as handle:
            if path.suffix.lower() == ".json":
                data = json.load(handle)
            else:
                import yaml

                data = yaml.safe_load(handle)
    except (OSError, ValueError) as error:
        raise UserInputError(f"cannot read override file {path}: {error}") from None
    except Exception as error:  # yaml.YAMLError without importing yaml at module level
        raise UserInputError(f"cannot read override file {path}: {error}") from None
    tags: list[PrivateTagRule] = []
    if isinstance(data, dict):
        tags = rules_from_entries(data.get("private_tags") or [], f"override file {path.name}")
        entries = data.get("series") or []
    else:
        entries = data
    if not isinstance(entries, list):
        raise UserInputError(f"override file {path} must hold a list of "
                             "{series, time_ms, role} entries")
    rows = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise UserInputError(f"override file {path} entry {number} is not a mapping with "
                                 "series, time_ms, role")
        rows.append(_row(_cell(entry.get("series")), _cell(entry.get("time_ms")),
                         _cell(entry.get("role")), f"entry {number}", path))
    if not rows and not tags:
        raise UserInputError(f"override file {path} has no entries")
    return Overrides(path, rows, tags)


def _cell(value) -> str:
    return "" if value is None else str(value).strip()


def _row(series: str, time_text: str, role_text: str, where: str, path: Path) -> OverrideRow:
    label = f"override file {path.name} {where}"
    if not series:
        raise UserInputError(f"{label} has an empty 'series'; name a series or file")
    role = None
    if role_text:
        role = ROLE_ALIASES.get(role_text.lower())
        if role is None:
            raise UserInputError(f"{label} (series '{series}'): role '{role_text}' is not one of "
                                 "t1rho, t2, shared, echo, skip")
    time_ms = None
    if time_text:
        try:
            time_ms = float(time_text)
        except ValueError:
            raise UserInputError(f"{label} (series '{series}'): time_ms '{time_text}' is not "
                                 "a number of milliseconds") from None
        if not math.isfinite(time_ms) or time_ms < 0:
            raise UserInputError(f"{label} (series '{series}'): time_ms {time_text} must be a "
                                 "number >= 0 (milliseconds)")
    elif role != "skip":
        raise UserInputError(f"{label} (series '{series}') has no time_ms; give the time in "
                             "milliseconds (or role skip)")
    return OverrideRow(series, time_ms, role, where)
