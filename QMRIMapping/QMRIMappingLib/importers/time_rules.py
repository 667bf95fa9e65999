"""How each image's weighting time and role are decided — the documented rule set.

Every decision returns a reason string that ``qmri inspect`` prints, so a user can see why
an image got its time. Times are always kept in milliseconds.

Weighting time, first rule that applies wins
============================================

====  =========================  ==============================================================
 #    source                     rule
====  =========================  ==============================================================
 0    override file              A row naming the image (SeriesInstanceUID, SeriesNumber,
                                 exact SeriesDescription, or input-relative path/glob; for
                                 NIfTI the file name) sets ``time_ms`` and ``role``. It
                                 ALWAYS wins over rules 1-6 (see ``overrides.py``).
 1    DICOM private tag          An *enabled* entry of :data:`BUILTIN_PRIVATE_TAGS` or of the
                                 override file's ``private_tags`` list with meaning
                                 ``spin_lock_time`` (T1rho) or ``t2prep_time`` (T2), read
                                 in the entry's unit (ms, s or us) and converted to ms.
 2    NIfTI sidecar keys         ``SpinLockTime`` / ``T2PrepTime`` (seconds, scalar for a
                                 3-D file, a list with one entry per volume for a 4-D file;
                                 ``null`` = that preparation is absent in that volume).
 3    description text           SeriesDescription, then ProtocolName (DICOM header or
                                 sidecar), case-insensitive, see *Text patterns* below.
 4    TriggerTime                (0018,1060) TriggerTime, or NominalCardiacTriggerDelayTime
                                 of an enhanced file, is used as the preparation time only
                                 when all of these hold: (a) rules 1-3 named the image's
                                 family (T1rho or T2-prep) but gave no time; (b) every such
                                 image of that family carries one TriggerTime (constant
                                 over its slices); (c) those TriggerTimes take at least two
                                 different values. A TriggerTime that is the same for all
                                 images is an ordinary cardiac/respiratory delay and is
                                 ignored.
 5    EchoTime                   Only for images with no preparation (rules 1-4 found no
                                 family): DICOM EchoTime (0018,0081) or EffectiveEchoTime
                                 (0018,9082) in ms, sidecar ``EchoTime`` in s. They form a
                                 multi-echo set when one series holds more than one echo
                                 time, or several series of one protocol (same description
                                 with digits ignored, same matrix and slice count) differ
                                 only in EchoTime. The readout EchoTime of a T1rho/T2-prep
                                 image is constant and is NEVER used as its weighting time.
 6    nothing found              A prepared image without a time is an error that asks for
                                 an override row; an unprepared image without EchoTime is
                                 skipped with a note.
====  =========================  ==============================================================

Text patterns (rule 3)
======================

A *keyword* must not follow a letter or digit (``_``, space, ``-`` are separators), then
optional separators ``[ _=:-]``, then a number (``18.2`` or ``18p2``), then an optional unit
``ms``/``msec`` (default) or ``s``/``sec`` (converted), then no letter or digit.

============  =====================================================  ==========================
family        keywords that carry a time                             examples
============  =====================================================  ==========================
T1rho         ``TSL``, ``SL``, ``T1rho``, ``T1 rho``, ``T1r``,        ``TSL10``, ``TSL_10``,
              ``T1ρ``, ``spin lock [time]``                           ``SL_10ms``, ``SL10``,
                                                                      ``T1rho 10ms``
T2            ``T2prep``, ``T2-prep``, ``T2 prep[aration]``,         ``T2prep 20``,
              ``T2p``, ``TP``                                         ``T2prep_20ms``,
                                                                      ``TP18.2``, ``T2p 20``
============  =====================================================  ==========================

Words that name a family without a time: ``T1rho``/``T1 rho``/``T1r``/``T1ρ``/``TSL``/
``spin lock`` (T1rho) and ``T2prep``/``T2-prep``/``T2p`` (T2). ``SL`` and ``TP`` count only
with a number attached, because they are too short to trust alone. When no text names a
family, the standard enhanced-MR attribute T2Preparation (0018,9021) = YES marks a T2 image
(it carries no time, so rules 1, 4 or 0 must supply one). Two different times for
one family in one text is an error (give the time in an override file).

Role from the family: T1rho -> ``t1rho``, T2-prep -> ``t2``. A text that names both
families with time 0 (``WIP T1rho_T2prep TSL0 TP0 SENSE``) is the ``shared`` zero image.
When both a spin-lock and a T2-prep time are found and one is 0, the non-zero one decides.
``roles.py`` adds the last role rule: when no image is explicitly shared, exactly one image
has time 0 and both a T1rho and a T2 set exist, that image becomes ``shared``.

Units and plausibility
======================

* DICOM times and description numbers are milliseconds; if all times of one map's set are
  below 1 with a maximum above 0 they are taken to be seconds written where ms were meant,
  and loading stops with an error (``validation.py``).
* Sidecar times are seconds; a sidecar ``EchoTime``/``SpinLockTime``/``T2PrepTime`` above 1
  is taken to be milliseconds written where seconds were meant, which is an error.

Private tag table (rule 1)
==========================

See :data:`BUILTIN_PRIVATE_TAGS`. Only entries whose meaning is certain are enabled. No
vendor publishes a spin-lock time tag for its product sequences (T1rho is a research/WIP
sequence everywhere), so no built-in entry yields a time; sites whose sequence writes one
add an entry in the override file::

    private_tags:
      - {manufacturer: Philips, tag: "2001,xx1B", creator: "Philips Imaging DD 001",
         meaning: t2prep_time, unit: ms}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UserInputError

FAMILY_ROLE_NAMES = {"t1rho": "T1rho", "t2": "T2"}
FAMILY_TIME_NAMES = {"t1rho": "TSL", "t2": "T2-prep"}
FAMILY_FULL_NAMES = {"t1rho": "spin-lock (T1rho)", "t2": "T2 preparation"}

#: Meanings a private tag entry can have.
TIME_MEANINGS = {"spin_lock_time": "t1rho", "t2prep_time": "t2"}
OTHER_MEANINGS = ("scale_slope", "t2_preparation_flag")
UNIT_TO_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001}


@dataclass(frozen=True)
class PrivateTagRule:
    """One row of the private/standard tag table.

    ``group``/``element`` give the tag; for a private (odd) group ``element`` is the offset
    inside the private block (the low byte, ``xx0E``) and ``creator`` names the private
    creator that reserves the block, so the block number the scanner picked does not
    matter. ``manufacturer`` is matched case-insensitively as a substring of the
    Manufacturer attribute ("" = any).
    """

    manufacturer: str
    group: int
    element: int
    creator: str
    meaning: str
    unit: str
    enabled: bool
    note: str

    @property
    def tag_text(self) -> str:
        if self.creator:
            return f"({self.group:04X},xx{self.element & 0xFF:02X}) '{self.creator}'"
        return f"({self.group:04X},{self.element:04X})"


#: The built-in table. ``enabled=False`` rows are known tags whose use as a weighting time
#: is not verified; they are listed so a site can enable them in its override file.
BUILTIN_PRIVATE_TAGS: tuple[PrivateTagRule, ...] = (
    PrivateTagRule(
        "Philips", 0x2005, 0x0E, "Philips MR Imaging DD 001", "scale_slope", "", True,
        "Philips floating-point scale slope SS: FP = (PV*RS + RI) / (RS*SS); used by "
        "dicom_volume.py to turn stored values into Philips floating-point values."),
    PrivateTagRule(
        "", 0x0018, 0x9021, "", "t2_preparation_flag", "", True,
        "Standard T2Preparation (YES/NO) of enhanced MR: marks a T2-prepared image when "
        "the description names no family; it carries no time."),
    PrivateTagRule(
        "Philips", 0x2001, 0x1B, "Philips Imaging DD 001", "t2prep_time", "ms", False,
        "Philips 'Prepulse Delay' (FL). Configurable only: whether it holds the T2-prep "
        "duration depends on the sequence, so it is off unless a rules file enables it."),
)


def parse_tag(text: str, creator: str) -> tuple[int, int]:
    """Parse ``"2001,xx1B"``, ``"(2001,101B)"`` or ``"0018,9021"`` into (group, element).

    For a private group the element becomes the in-block offset (low byte).
    """
    match = re.fullmatch(r"\(?\s*([0-9a-fA-F]{4})\s*,\s*([0-9a-fA-FxX]{4})\s*\)?", text.strip())
    if not match:
        raise ValueError(f"tag '{text}' is not of the form GGGG,EEEE")
    group = int(match.group(1), 16)
    element_text = match.group(2).lower().replace("xx", "00")
    element = int(element_text, 16)
    if group % 2 == 1:
        if not creator:
            raise ValueError(f"private tag '{text}' needs a 'creator'")
        element &= 0xFF
    return group, element


# --- text patterns -----------------------------------------------------------------------

_BEFORE = r"(?<![a-z0-9])"
_SEP = r"[\s_=:\-]*"
_NUMBER = r"(\d+(?:[.p]\d+)?)"
_UNIT = r"(?:\s*(ms|msec|s|sec))?(?![a-z0-9])"
_T1RHO_TIME_KEYS = r"tsl|sl|t1\s*rho|t1\s*ρ|t1ρ|t1r|spin[\s_-]*lock(?:[\s_-]*time)?"
_T2_TIME_KEYS = r"t2[\s_-]*prep(?:aration|ared)?|t2p|tp"
_T1RHO_WORDS = r"t1\s*rho|t1\s*ρ|t1ρ|t1r|tsl|spin[\s_-]*lock"
_T2_WORDS = r"t2[\s_-]*prep(?:aration|ared)?|t2p"

_TIME_PATTERNS = {
    "t1rho": re.compile(_BEFORE + f"(?:{_T1RHO_TIME_KEYS})" + _SEP + _NUMBER + _UNIT, re.I),
    "t2": re.compile(_BEFORE + f"(?:{_T2_TIME_KEYS})" + _SEP + _NUMBER + _UNIT, re.I),
}
_WORD_PATTERNS = {
    "t1rho": re.compile(_BEFORE + f"(?:{_T1RHO_WORDS})(?![a-z])", re.I),
    "t2": re.compile(_BEFORE + f"(?:{_T2_WORDS})(?![a-z])", re.I),
}


@dataclass
class TextMatch:
    """What the text patterns found in one or more header fields."""

    named: dict[str, list[str]]
    times: dict[str, tuple[float, str]]
    problem: str | None = None


def parse_text(fields: list[tuple[str, str]]) -> TextMatch:
    """Apply the text patterns to ``[(field name, text), ...]`` in order of priority.

    A family's time comes from the first field that gives one; the words that named a
    family are collected for the reason string.
    """
    named: dict[str, list[str]] = {}
    times: dict[str, tuple[float, str]] = {}
    problem = None
    for field_name, text in fields:
        if not text:
            continue
        for family, pattern in _WORD_PATTERNS.items():
            for match in pattern.finditer(text):
                named.setdefault(family, []).append(match.group(0))
        for family, pattern in _TIME_PATTERNS.items():
            found = []
            for match in pattern.finditer(text):
                number = float(match.group(1).lower().replace("p", "."))
                unit = (match.group(2) or "").lower()
                scale = 1000.0 if unit in ("s", "sec") else 1.0
                found.append((round(number * scale, 6), match.group(0).strip(), unit))
            if not found:
                continue
            named.setdefault(family, []).append(found[0][1])
            distinct = sorted({value for value, _, _ in found})
            if len(distinct) > 1 and problem is None:
                problem = (f"{field_name} '{text}' gives several {FAMILY_TIME_NAMES[family]} "
                           f"times ({', '.join(fmt_ms(v) for v in distinct)} ms)")
            if family not in times:
                value, token, unit = found[0]
                unit_note = " (unit s converted to ms)" if unit in ("s", "sec") else ""
                times[family] = (value, f"'{token}' in {field_name} '{text}'{unit_note}")
    return TextMatch(named=named, times=times, problem=problem)


# --- decisions ---------------------------------------------------------------------------

@dataclass
class TimeDecision:
    """Outcome of the rules for one volume."""

    time_ms: float | None
    role: str | None
    source: str
    time_reason: str
    role_reason: str
    problem: str | None = None
    skip: str | None = None


def decide_prepared(values: dict[str, tuple[float, str]], named: dict[str, list[str]],
                    source: str, label: str) -> TimeDecision:
    """Turn the preparation times found for one image into time + role (+ reasons).

    ``values`` maps family -> (time ms, how it was found); ``named`` maps family -> the
    words that named it without (or with) a time.
    """
    families = set(named) | set(values)
    both = families == {"t1rho", "t2"}
    if len(values) == 2:
        (sl, sl_how), (tp, tp_how) = values["t1rho"], values["t2"]
        if sl == 0 and tp == 0:
            return TimeDecision(
                0.0, "shared", source, f"TSL 0 ms from {sl_how} and T2-prep 0 ms from {tp_how}",
                "shared: spin-lock and T2-prep times are both 0, so this zero image "
                "belongs to both the T1rho and the T2 set")
        if sl != 0 and tp != 0:
            return TimeDecision(
                None, None, source, "", "",
                problem=(f"{label} has both a spin-lock time ({fmt_ms(sl)} ms, {sl_how}) and a "
                         f"T2-prep time ({fmt_ms(tp)} ms, {tp_how}); say which one it is in "
                         "an override file (series,time_ms,role)"))
        family = "t1rho" if sl != 0 else "t2"
        value, how = values[family]
        return TimeDecision(
            value, family, source, f"{FAMILY_TIME_NAMES[family]} {fmt_ms(value)} ms from {how}",
            f"{family}: its {FAMILY_FULL_NAMES[family]} time is non-zero and the other "
            "preparation time is 0")
    if len(values) == 1:
        family, (value, how) = next(iter(values.items()))
        reason = f"{FAMILY_TIME_NAMES[family]} {fmt_ms(value)} ms from {how}"
        if value == 0 and both:
            words = ", ".join(_words(named.get(f, [])) for f in ("t1rho", "t2"))
            return TimeDecision(
                0.0, "shared", source, reason,
                f"shared: the text names both preparations ({words}) with time 0, so this "
                "zero image belongs to both the T1rho and the T2 set")
        words = _words(named.get(family, []))
        return TimeDecision(value, family, source, reason,
                            f"{family}: the text names a {FAMILY_FULL_NAMES[family]} "
                            f"({words or how})" if words else f"{family}: {how}")
    if both:
        return TimeDecision(
            None, None, source, "", "",
            problem=(f"{label} names both a spin-lock and a T2 preparation but gives no time; "
                     "give its time and role in an override file (series,time_ms,role)"))
    family = next(iter(families))
    return TimeDecision(None, family, source, "",
                        f"{family}: the text names a {FAMILY_FULL_NAMES[family]} "
                        f"({_words(named[family])})")


def _words(words: list[str]) -> str:
    """Quoted distinct words, leaving out those contained in a longer one (TSL in TSL10)."""
    unique = list(dict.fromkeys(words))
    kept = [w for w in unique if not any(w != other and w in other for other in unique)]
    return ", ".join(f"'{w}'" for w in kept)


def missing_time_problem(label: str, family: str) -> str:
    """The error for a prepared image whose time no rule found."""
    example = "TSL10ms" if family == "t1rho" else "T2prep 20ms"
    return (f"no {FAMILY_TIME_NAMES[family]} time found for {label}: write it in the series "
            f"description (e.g. '{example}') or give it in an override file "
            "(series,time_ms,role)")


def dicom_decision(info: dict, label: str) -> TimeDecision:
    """Rules 1, 3 and 5 for one DICOM volume (rule 4 needs all volumes: see below)."""
    text = parse_text([("SeriesDescription", info.get("description", "")),
                       ("ProtocolName", info.get("protocol", ""))])
    values: dict[str, tuple[float, str]] = {}
    source = "description"
    for meaning, (value_ms, tag_label) in info.get("private_times", {}).items():
        values[TIME_MEANINGS[meaning]] = (value_ms, tag_label)
        source = "private tag"
    for family, found in text.times.items():
        values.setdefault(family, found)
    named = dict(text.named)
    if not named and not values and str(info.get("t2_preparation", "")).upper() == "YES":
        named["t2"] = ["T2Preparation (0018,9021) = YES"]
    if text.problem and not info.get("private_times"):
        return TimeDecision(None, None, "description", "", "",
                            problem=f"{label}: {text.problem}; give the time in an override file")
    if named or values:
        decision = decide_prepared(values, named, source, label)
        echo = info.get("echo_time_ms")
        if echo is not None and decision.time_ms is not None:
            decision.time_reason += (f"; readout EchoTime {fmt_ms(echo)} ms not used (a "
                                     "prepared image's readout TE is not its weighting time)")
        return decision
    echo = info.get("echo_time_ms")
    if echo is None:
        return TimeDecision(None, None, "", "", "",
                            skip="no EchoTime and no spin-lock/T2-prep time")
    return TimeDecision(echo, "echo", "echo", f"EchoTime {fmt_ms(echo)} ms",
                        "echo: no preparation named, so EchoTime is the weighting time")


def apply_trigger_time_rule(volumes: list) -> None:
    """Rule 4: fill prepared volumes without a time from a varying TriggerTime.

    ``volumes`` are :class:`~.volume.Volume` objects after :func:`dicom_decision`.
    """
    for family in ("t1rho", "t2"):
        members = [v for v in volumes
                   if v.role == family and v.time_ms is None and not v.problem and not v.skip]
        if len(members) < 2:
            continue
        triggers = [v.info.get("trigger_time_ms") for v in members]
        if any(t is None for t in triggers) or len({round(t, 3) for t in triggers}) < 2:
            continue
        listed = ", ".join(fmt_ms(t) for t in sorted(set(triggers)))
        for volume, trigger in zip(members, triggers, strict=True):
            volume.time_ms = float(trigger)
            volume.time_source = "trigger"
            volume.time_reason = (
                f"{FAMILY_TIME_NAMES[family]} {fmt_ms(trigger)} ms from TriggerTime: the "
                f"{len(members)} {FAMILY_ROLE_NAMES[family]} images without a time in their "
                f"description have differing TriggerTimes ({listed} ms), so TriggerTime is "
                "read as the preparation time")


SIDECAR_PREP_KEYS = {"SpinLockTime": "t1rho", "T2PrepTime": "t2"}


def sidecar_decisions(sidecar: dict, n_volumes: int, json_name: str) -> list[TimeDecision]:
    """Rules 2, 3 and 5 for a NIfTI file with ``n_volumes`` volumes and its JSON sidecar.

    Keys (all in seconds): ``SpinLockTime``, ``T2PrepTime`` and ``EchoTime``; a 4-D file
    needs a list with one value per volume (``null`` where a preparation is absent).
    """
    def as_list(key: str) -> list | None | str:
        value = sidecar.get(key)
        if value is None:
            return None
        values = value if isinstance(value, list) else [value]
        if len(values) != n_volumes:
            return (f"{json_name}: '{key}' has {len(values)} value(s) but the image has "
                    f"{n_volumes} volume(s); list one time per volume (seconds)")
        for item in values:
            if item is None:
                continue
            if not isinstance(item, (int, float)) or isinstance(item, bool):
                return f"{json_name}: '{key}' value {item!r} is not a number of seconds"
            if item < 0:
                return f"{json_name}: '{key}' value {item} is negative"
            if item > 1:
                return (f"{json_name}: '{key}' value {item} looks like milliseconds; dcm2niix "
                        "sidecars give times in seconds (e.g. 0.0129 for 12.9 ms)")
        return values

    found: dict[str, list] = {}
    for key in (*SIDECAR_PREP_KEYS, "EchoTime"):
        values = as_list(key)
        if isinstance(values, str):
            return [TimeDecision(None, None, "sidecar", "", "", problem=values)] * n_volumes
        if values is not None:
            found[key] = values
    decisions = []
    prepared = any(key in found for key in SIDECAR_PREP_KEYS)
    for index in range(n_volumes):
        where = json_name if n_volumes == 1 else f"{json_name} (volume {index})"
        echo = found.get("EchoTime", [None] * n_volumes)[index]
        if prepared:
            values = {}
            for key, family in SIDECAR_PREP_KEYS.items():
                value = found.get(key, [None] * n_volumes)[index]
                if value is not None:
                    values[family] = (round(value * 1000.0, 6), f"{key} {value} s in {where}")
            if not values:
                decisions.append(TimeDecision(
                    None, None, "sidecar", "", "",
                    problem=f"{where}: no SpinLockTime or T2PrepTime for this volume"))
                continue
            decision = decide_prepared(values, {}, "sidecar", where)
            if echo is not None and decision.time_ms is not None:
                decision.time_reason += (f"; readout EchoTime {fmt_ms(echo * 1000)} ms not "
                                         "used (readout TE of a prepared image)")
            decisions.append(decision)
            continue
        if n_volumes == 1:
            info = {"description": sidecar.get("SeriesDescription", ""),
                    "protocol": sidecar.get("ProtocolName", "")}
            text = parse_text([(f"SeriesDescription in {json_name}", info["description"]),
                               (f"ProtocolName in {json_name}", info["protocol"])])
            if text.problem:
                decisions.append(TimeDecision(None, None, "description", "", "",
                                              problem=f"{text.problem}; use an override file"))
                continue
            if text.named or text.times:
                decision = decide_prepared(text.times, text.named, "description", where)
                if echo is not None and decision.time_ms is not None:
                    decision.time_reason += (f"; readout EchoTime {fmt_ms(echo * 1000)} ms not "
                                             "used (readout TE of a prepared image)")
                decisions.append(decision)
                continue
        if echo is None:
            decisions.append(TimeDecision(
                None, None, "", "", "",
                skip=f"{where} has no EchoTime, SpinLockTime or T2PrepTime"))
            continue
        value_ms = round(echo * 1000.0, 6)
        decisions.append(TimeDecision(
            value_ms, "echo", "sidecar", f"EchoTime {echo} s in {where} = {fmt_ms(value_ms)} ms",
            "echo: no SpinLockTime/T2PrepTime, so EchoTime is the weighting time"))
    return decisions


def rules_from_entries(entries: list, where: str) -> list[PrivateTagRule]:
    """Build :class:`PrivateTagRule` rows from an override file's ``private_tags`` list."""
    rules = []
    for number, entry in enumerate(entries, start=1):
        label = f"{where} private_tags entry {number}"
        if not isinstance(entry, dict):
            raise UserInputError(f"{label} is not a mapping; give tag, creator, meaning, unit")
        meaning = str(entry.get("meaning", "")).strip()
        if meaning not in TIME_MEANINGS:
            raise UserInputError(f"{label}: meaning '{meaning}' is not one of "
                                 f"{', '.join(TIME_MEANINGS)}")
        unit = str(entry.get("unit", "ms")).strip()
        if unit not in UNIT_TO_MS:
            raise UserInputError(f"{label}: unit '{unit}' is not one of ms, s, us")
        creator = str(entry.get("creator", "") or "").strip()
        try:
            group, element = parse_tag(str(entry.get("tag", "")), creator)
        except ValueError as error:
            raise UserInputError(f"{label}: {error}") from None
        rules.append(PrivateTagRule(str(entry.get("manufacturer", "") or ""), group, element,
                                    creator, meaning, unit, True, f"from {where}"))
    return rules


def fmt_ms(value: float) -> str:
    """A time for people: ``10``, ``18.2``, ``0.0129`` (no trailing zeros)."""
    return f"{value:.6g}"
