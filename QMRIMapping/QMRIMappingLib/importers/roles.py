"""Choose the mapping set among the candidate volumes and settle roles and the echo map.

Role rules
----------
1. If any image is T1rho- or T2-prepared (role ``t1rho``, ``t2`` or ``shared`` from the
   time rules or the override file) the input is ``prepared``; every other image is
   skipped with a note.
2. Shared zero image: an image explicitly shared (its text or sidecar names both
   preparations with time 0, or an override says so) is used by both maps. Otherwise,
   when exactly one image has time 0 and both a T1rho and a T2 set with non-zero times
   exist, that image becomes ``shared`` (automatic roles only; an override row is kept
   as written). Separate TSL0 and TP0 images stay in their own sets.
3. Otherwise the input is ``multi-echo``: the unprepared images with an echo time are
   grouped by protocol (same description with digits ignored, same matrix and slice
   count; the images of one series always share it). Exactly one group with at least two
   different echo times must exist; the others are skipped with a note.

Echo map (multi-echo only), first rule that decides wins
--------------------------------------------------------
1. The ``echo_map`` argument (``T2`` or ``T2star``).
2. Enhanced MR EchoPulseSequence: GRADIENT -> T2star, SPIN -> T2.
3. ScanningSequence (DICOM or sidecar): contains GR but not SE -> T2star; contains SE but
   not GR -> T2 (RM "research mode", EP ... decide nothing).
4. Sequence names in SequenceName, PulseSequenceName, SeriesDescription, ProtocolName:
   gradient echo (FFE, m-FFE, GRE, ME-GRE, MGRE, FLASH, fl2d/fl3d, SPGR, FISP, T2*,
   T2star) -> T2star; spin echo (SE, TSE, FSE, MESE, ME-SE, MSE, CPMG, spin echo) -> T2.
5. Undecided: T2, with a note saying to pass ``echo_map`` for a gradient-echo series.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from ..errors import UserInputError
from .time_rules import fmt_ms
from .volume import Volume

PREPARED_ROLES = ("shared", "t1rho", "t2")
ECHO_MAP_ALIASES = {"t2": "T2", "t2star": "T2star", "t2*": "T2star"}

_GRADIENT_NAMES = re.compile(
    r"(?<![a-z])(m-?ffe|t[12]-?ffe|ffe|me-?gre|mgre|gre|flash|fl[23]d|spgr|fisp|"
    r"t2\s*\*|t2[\s_-]*star)(?![a-z])", re.I)
_SPIN_NAMES = re.compile(
    r"(?<![a-z])(tse|fse|mese|me-?se|mse|cpmg|se|spin[\s_-]*echo)(?![a-z])", re.I)


@dataclass
class Selection:
    """The chosen images (roles set) and how the input is to be mapped."""

    volumes: list[Volume]
    kind: str
    echo_map: str | None = None
    echo_map_reason: str = ""
    notes: list[str] = field(default_factory=list)


def parse_echo_map(value: str | None) -> str | None:
    """Check the ``echo_map`` argument: ``T2`` or ``T2star`` (any case), or None."""
    if value is None:
        return None
    found = ECHO_MAP_ALIASES.get(str(value).strip().lower())
    if found is None:
        raise UserInputError(f"echo_map '{value}' is not valid; use 'T2' (spin echo) or "
                             "'T2star' (gradient echo)")
    return found


def select_mapping_set(volumes: list[Volume], echo_map: str | None, where: str) -> Selection:
    """Apply the role rules to all candidate volumes of the input ``where``."""
    notes = [f"skipped {v.label}: {v.skip}" for v in volumes if v.skip]
    usable = [v for v in volumes if not v.skip]
    for volume in usable:
        if volume.problem:
            raise UserInputError(f"{volume.problem} (input {where})")
    prepared = [v for v in usable if v.role in PREPARED_ROLES]
    if prepared:
        forced_echo = [v for v in usable if v.role == "echo" and v.from_override]
        if forced_echo:
            raise UserInputError(
                f"the override file gives role echo to {forced_echo[0].label}, but {where} "
                "holds a T1rho/T2-prepared set; use role t1rho, t2 or shared (or skip)")
        notes += [f"skipped {v.label}: not T1rho/T2-prepared (no preparation time found), "
                  "and the input holds a prepared set" for v in usable if v not in prepared]
        _promote_shared(prepared)
        if echo_map:
            notes.append(f"echo_map '{echo_map}' ignored: the input is a T1rho/T2-prepared "
                         "set, not a multi-echo series")
        return Selection(_ordered(prepared), "prepared", notes=notes)
    return _select_echoes(volumes, usable, echo_map, where, notes)


def decide_echo_map(volumes: list[Volume], requested: str | None) -> tuple[str, str, bool]:
    """Echo map name, the reason, and whether it was a guess (see the module docstring)."""
    if requested:
        return requested, f"{requested}: set by the echo_map argument", False
    info = volumes[0].info
    pulse = str(info.get("echo_pulse_sequence", "")).upper()
    if pulse in ("GRADIENT", "SPIN"):
        name = "T2star" if pulse == "GRADIENT" else "T2"
        return name, f"{name}: EchoPulseSequence is {pulse}", False
    scanning = str(info.get("scanning_sequence", ""))
    tokens = set(re.split(r"[\\/_,\s]+", scanning.upper())) - {""}
    if "GR" in tokens and "SE" not in tokens:
        return "T2star", f"T2star: ScanningSequence '{scanning}' is gradient echo (GR)", False
    if "SE" in tokens and "GR" not in tokens:
        return "T2", f"T2: ScanningSequence '{scanning}' is spin echo (SE)", False
    gradient, spin = [], []
    for key in ("sequence_name", "pulse_sequence_name", "description", "protocol"):
        text = str(info.get(key, "") or "")
        gradient += [m.group(0) for m in _GRADIENT_NAMES.finditer(text)]
        spin += [m.group(0) for m in _SPIN_NAMES.finditer(text)]
    said = f"ScanningSequence '{scanning}' decides nothing; " if scanning else ""
    if gradient and not spin:
        return "T2star", (f"T2star: {said}the sequence/series name says gradient echo "
                          f"('{gradient[0]}')"), False
    if spin and not gradient:
        return "T2", f"T2: {said}the sequence/series name says spin echo ('{spin[0]}')", False
    return "T2", ("T2: assumed — neither ScanningSequence nor the sequence names tell spin "
                  "echo from gradient echo; pass echo_map='T2star' for a gradient-echo "
                  "series"), True


def _select_echoes(volumes: list[Volume], usable: list[Volume], echo_map: str | None,
                   where: str, notes: list[str]) -> Selection:
    echoes = [v for v in usable if v.role == "echo" and v.time_ms is not None]
    forced = [v for v in echoes if v.from_override]
    groups: dict[tuple, list[Volume]] = defaultdict(list)
    if forced:
        groups[("override",)] = forced
    else:
        for volume in echoes:
            groups[volume.group_key].append(volume)
    candidates = [g for g in groups.values() if len({v.time_ms for v in g}) >= 2]
    if not candidates:
        raise UserInputError(_no_set_message(volumes, where))
    if len(candidates) > 1:
        names = "; ".join(f"{g[0].label} ({len(g)} echoes)" for g in candidates[:3])
        raise UserInputError(
            f"{where} holds {len(candidates)} multi-echo sets ({names}); point at one series' "
            "folder, or list the wanted images in an override file (others with role skip)")
    chosen = candidates[0]
    notes += [f"skipped {v.label}: not part of the multi-echo set" for v in usable
              if v not in chosen]
    series = {v.info.get("series_uid") or v.files[0].parent for v in chosen}
    for volume in chosen:
        if volume.from_override:
            continue
        if len(series) == 1 and len(chosen) > 1 and volume.info.get("format") == "DICOM":
            volume.role_reason = (f"echo: one of {len(chosen)} echo times within one series "
                                  "(multi-echo, no preparation named)")
        else:
            volume.role_reason = (f"echo: one of {len(chosen)} images of one protocol that "
                                  "differ only in echo time (no preparation named)")
    name, reason, guessed = decide_echo_map(chosen, echo_map)
    if guessed:
        notes.append("echo map guessed as T2: " + reason.split("— ", 1)[-1])
    return Selection(_ordered(chosen), "multi-echo", name, reason, notes)


def _promote_shared(prepared: list[Volume]) -> None:
    if any(v.role == "shared" for v in prepared):
        return
    has_t1rho = any(v.role == "t1rho" and v.time_ms for v in prepared)
    has_t2 = any(v.role == "t2" and v.time_ms for v in prepared)
    zeros = [v for v in prepared if v.time_ms == 0]
    if has_t1rho and has_t2 and len(zeros) == 1 and not zeros[0].from_override:
        zero = zeros[0]
        zero.role_reason = (f"shared: the only zero-time image while both a T1rho and a T2 "
                            f"set exist, so both maps use it (was {zero.role})")
        zero.role = "shared"


def _ordered(volumes: list[Volume]) -> list[Volume]:
    order = {"shared": 0, "t1rho": 1, "t2": 2, "echo": 3}
    return sorted(volumes, key=lambda v: (order.get(v.role, 9), v.time_ms or 0.0))


def _no_set_message(volumes: list[Volume], where: str) -> str:
    usable = [v for v in volumes if not v.skip]
    if len(usable) == 1 or (not usable and len(volumes) == 1):
        volume = usable[0] if usable else volumes[0]
        what = (f"TE {fmt_ms(volume.time_ms)} ms, {volume.label}" if volume.time_ms is not None
                else f"{volume.label}; {volume.skip or 'no time found'}")
        return (f"only one time point ({what}) in {where}; a map needs at least 2 images "
                "with different echo, spin-lock or T2-prep times")
    if not volumes:
        return (f"no usable images in {where}; it needs DICOM images, or NIfTI files with "
                "JSON sidecars")
    echo_times = sorted({v.time_ms for v in volumes if v.role == "echo" and not v.skip})
    times = (" (echo times found: " + ", ".join(fmt_ms(t) for t in echo_times) + " ms)"
             if echo_times else "")
    return (f"no mapping set in {where}: {len(volumes)} images found{times} but no "
            "T1rho/T2-prepared series (no TSL/T2prep time in their descriptions) and no "
            "protocol with 2 or more echo times; give the times in an override file "
            "(series,time_ms,role)")
