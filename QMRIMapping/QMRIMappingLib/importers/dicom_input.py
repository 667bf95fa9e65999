"""A folder of DICOM files (any nesting) -> candidate volumes with times and roles.

Series are grouped by SeriesInstanceUID, split into volumes (e.g. one per echo), and each
volume gets its time and role from :mod:`.time_rules`. Series that cannot be part of a
mapping set — not MR, localizers/surveys, or slices that do not form a volume — are
kept as skipped volumes (an override row can still bring back a skipped one that forms a
volume) or reported in the notes.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from . import time_rules
from .dicom_scan import SliceHeader, group_series, scan_files
from .dicom_volume import PixelCache, read_pixels, sort_and_geometry, split_series
from .time_rules import PrivateTagRule, fmt_ms
from .volume import Volume, relative_paths

_LOCALIZER_TEXT = re.compile(r"survey|locali[sz]er|scout|3[\s_-]*plane|tri[\s_-]*pilot", re.I)


def dicom_volumes(root: Path, files: list[Path], rules: tuple[PrivateTagRule, ...],
                  progress: bool = False) -> tuple[list[Volume], list[str], PixelCache]:
    """Scan ``files`` under ``root``; return candidate volumes, notes and the pixel cache.

    The caller clears the cache once the chosen volumes are loaded.
    """
    slices, notes = scan_files(files, root, rules, progress)
    cache = PixelCache()
    volumes: list[Volume] = []
    for members in group_series(slices).values():
        first = members[0]
        label = _series_label(first)
        groups, split_key, problem = split_series(members)
        if problem:
            notes.append(f"skipped {label} ({first.rel}): {problem}")
            continue
        for volume_label, group in groups:
            ordered, geometry, geometry_notes = sort_and_geometry(group)
            name = f"{label} {volume_label}".strip()
            volume = Volume(
                label=name,
                files=sorted({s.path for s in ordered}),
                geometry=geometry,
                load=partial(read_pixels, ordered, cache),
                keys=[k for k in (first.series_uid, _number_text(first.series_number),
                                  first.description) if k],
                info=_info(ordered, root, split_key, geometry_notes),
                group_key=_group_key(first, len(ordered)),
            )
            volume.paths = relative_paths(volume.files, root)
            volume.apply_decision(time_rules.dicom_decision(volume.info, volume.describe_source()))
            soft_skip = _soft_skip(first)
            if soft_skip:
                volume.skip = soft_skip
                volume.problem = None
            volumes.append(volume)
    time_rules.apply_trigger_time_rule(volumes)
    for volume in volumes:
        if (volume.role in ("t1rho", "t2") and volume.time_ms is None and not volume.problem
                and not volume.skip):
            volume.problem = time_rules.missing_time_problem(volume.describe_source(),
                                                             volume.role)
    return volumes, notes, cache


def _series_label(item: SliceHeader) -> str:
    parts = ["series"]
    if item.series_number is not None:
        parts.append(str(item.series_number))
    if item.description:
        parts.append(f"'{item.description}'")
    elif item.protocol:
        parts.append(f"'{item.protocol}'")
    return " ".join(parts)


def _number_text(number: int | None) -> str:
    return "" if number is None else str(number)


def _soft_skip(item: SliceHeader) -> str | None:
    if item.modality and item.modality.upper() != "MR":
        return f"modality {item.modality}, not MR"
    if any(word in item.image_type for word in ("LOCALIZER", "SCOUT")):
        return "a localizer (ImageType)"
    if _LOCALIZER_TEXT.search(item.description or item.protocol):
        return "a localizer/survey (description)"
    return None


def _constant(values: list):
    distinct = {v for v in values if v is not None}
    if len(distinct) == 1 and None not in values:
        return distinct.pop()
    return None


def _info(ordered: list[SliceHeader], root: Path, split_key: str,
          geometry_notes: list[str]) -> dict:
    first = ordered[0]
    files = sorted({s.rel for s in ordered})
    echo = _constant([s.echo_time for s in ordered])
    info = {
        "format": "DICOM",
        "first_file": files[0],
        "files": files,
        "n_files": len(files),
        "n_slices": len(ordered),
        "series_uid": first.series_uid,
        "series_number": first.series_number,
        "description": first.description,
        "protocol": first.protocol,
        "modality": first.modality,
        "manufacturer": first.manufacturer,
        "image_type": "\\".join(first.image_type),
        "echo_time_ms": echo,
        "echo_number": _constant([s.echo_number for s in ordered]),
        "trigger_time_ms": _constant([s.trigger_time for s in ordered]),
        "private_times": first.private_times,
        "t2_preparation": first.t2_preparation,
        "scanning_sequence": first.scanning_sequence,
        "sequence_variant": first.sequence_variant,
        "sequence_name": first.sequence_name,
        "pulse_sequence_name": first.pulse_sequence_name,
        "echo_pulse_sequence": first.echo_pulse_sequence,
        "split_by": split_key,
        "geometry_notes": geometry_notes,
    }
    if echo is None and any(s.echo_time is not None for s in ordered):
        times = sorted({s.echo_time for s in ordered if s.echo_time is not None})
        info["geometry_notes"] = geometry_notes + [
            "EchoTime differs between slices (" + ", ".join(fmt_ms(t) for t in times) + " ms)"]
    return info


def _group_key(item: SliceHeader, n_slices: int) -> tuple:
    """Series of one protocol that differ only in EchoTime share this key."""
    text = item.description or item.protocol
    normalised = re.sub(r"\d+(?:\.\d+)?", "#", text.lower()).strip()
    return ("dicom", normalised, item.rows, item.columns, n_slices, item.series_uid
            if not text else "")
