"""Find DICOM files and read their headers (no pixel data) into one record per 2-D slice.

Headers are read with ``stop_before_pixels`` so a folder with many unrelated series is
scanned quickly; pixels are read later only for the images that are used. Files that are
not DICOM images (text files, DICOMDIR index files, structured reports, colour
screenshots) are skipped and reported, never raised. Classic files give one slice each;
an enhanced multi-frame file gives one slice per frame, with position, orientation,
spacing, echo time and rescale read from its per-frame (or shared) functional groups.
"""

from __future__ import annotations

import struct
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from .progress import progress_iter
from .time_rules import TIME_MEANINGS, UNIT_TO_MS, PrivateTagRule

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


@dataclass
class SliceHeader:
    """Header facts of one 2-D image (a classic file or one frame of a multi-frame file)."""

    path: Path
    rel: str
    frame: int | None
    series_key: tuple
    series_uid: str
    series_number: int | None
    description: str
    protocol: str
    modality: str
    manufacturer: str
    image_type: tuple[str, ...]
    rows: int
    columns: int
    pixel_spacing: tuple[float, float] | None
    orientation: tuple[float, ...] | None
    position: tuple[float, float, float] | None
    slice_thickness: float | None
    spacing_between_slices: float | None
    echo_time: float | None
    echo_number: int | None
    trigger_time: float | None
    temporal_position: int | None
    acquisition_number: int | None
    instance_number: int | None
    rescale_slope: float
    rescale_intercept: float
    scale_slope: float | None
    t2_preparation: str
    scanning_sequence: str
    sequence_variant: str
    sequence_name: str
    pulse_sequence_name: str
    echo_pulse_sequence: str
    private_times: dict = field(default_factory=dict)


def looks_like_dicom(path: Path) -> bool:
    """True when the file has the DICOM Part 10 preamble (``DICM`` at byte 128)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def scan_files(files: list[Path], root: Path, rules: tuple[PrivateTagRule, ...],
               progress: bool = False) -> tuple[list[SliceHeader], list[str]]:
    """Read the headers of ``files``; return the image slices and notes on skipped files."""
    slices: list[SliceHeader] = []
    skipped: dict[str, list[str]] = defaultdict(list)
    for path in progress_iter(files, progress, "Reading DICOM headers", total=len(files)):
        rel = _relative(path, root)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dataset = pydicom.dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:
            skipped["not DICOM"].append(rel)
            continue
        except Exception as error:  # a broken file must not stop the scan
            skipped[f"unreadable DICOM ({type(error).__name__})"].append(rel)
            continue
        reason = _non_image_reason(dataset)
        if reason:
            skipped[reason].append(rel)
            continue
        try:
            slices.extend(_slices_of(dataset, path, rel, rules))
        except (ValueError, TypeError, AttributeError, IndexError) as error:
            skipped[f"unusable image header ({error})"].append(rel)
    return slices, [_skip_note(reason, names) for reason, names in skipped.items()]


def group_series(slices: list[SliceHeader]) -> dict[tuple, list[SliceHeader]]:
    """Group slices by series (SeriesInstanceUID, or a stand-in when it is missing)."""
    series: dict[tuple, list[SliceHeader]] = defaultdict(list)
    for item in slices:
        series[item.series_key].append(item)
    return dict(series)


def _skip_note(reason: str, names: list[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    plural = "file" if len(names) == 1 else "files"
    return f"skipped {len(names)} {plural}: {reason}: {shown}"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _non_image_reason(dataset: Dataset) -> str | None:
    sop_class = str(getattr(getattr(dataset, "file_meta", None), "MediaStorageSOPClassUID", "")
                    or dataset.get("SOPClassUID", ""))
    if sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in dataset:
        return "DICOMDIR index file (holds no image)"
    if "Rows" not in dataset or "Columns" not in dataset:
        return "DICOM object without an image (report, presentation state ...)"
    if int(dataset.get("SamplesPerPixel", 1) or 1) != 1:
        return "colour image (screenshot/secondary capture), not a greyscale MR image"
    return None


def _slices_of(dataset: Dataset, path: Path, rel: str,
               rules: tuple[PrivateTagRule, ...]) -> list[SliceHeader]:
    common = _common_fields(dataset, path, rules)
    frames = dataset.get("PerFrameFunctionalGroupsSequence")
    if frames is None:
        return [SliceHeader(
            path=path, rel=rel, frame=None, **common,
            pixel_spacing=_floats(dataset.get("PixelSpacing"), 2),
            orientation=_floats(dataset.get("ImageOrientationPatient"), 6),
            position=_floats(dataset.get("ImagePositionPatient"), 3),
            slice_thickness=_float(dataset.get("SliceThickness")),
            spacing_between_slices=_float(dataset.get("SpacingBetweenSlices")),
            echo_time=_float(dataset.get("EchoTime")),
            echo_number=_int(dataset.get("EchoNumbers")),
            trigger_time=_float(dataset.get("TriggerTime")),
            temporal_position=_int(dataset.get("TemporalPositionIdentifier")),
            rescale_slope=_float(dataset.get("RescaleSlope"), 1.0),
            rescale_intercept=_float(dataset.get("RescaleIntercept"), 0.0),
            scale_slope=_scale_slope(dataset, [], rules, common["manufacturer"]),
        )]
    shared_groups = dataset.get("SharedFunctionalGroupsSequence")
    shared = shared_groups[0] if shared_groups else Dataset()
    slices = []
    for index, frame in enumerate(frames):
        def group(keyword: str, frame: Dataset = frame) -> Dataset:
            for source in (frame, shared):
                sequence = source.get(keyword)
                if sequence:
                    return sequence[0]
            return Dataset()

        measures = group("PixelMeasuresSequence")
        transform = group("PixelValueTransformationSequence")
        content = group("FrameContentSequence")
        items = [group(keyword) for keyword in (
            "PixelValueTransformationSequence", "MRImagingModifierSequence")]
        items += [frame[tag][0] for tag in frame.keys()
                  if tag.is_private and frame[tag].VR == "SQ" and len(frame[tag].value)]
        t2_preparation = common["t2_preparation"] or str(
            group("MRImagingModifierSequence").get("T2Preparation", "") or "")
        slices.append(SliceHeader(
            path=path, rel=rel, frame=index, **{**common, "t2_preparation": t2_preparation},
            pixel_spacing=_floats(measures.get("PixelSpacing"), 2),
            orientation=_floats(group("PlaneOrientationSequence").get("ImageOrientationPatient"),
                                6),
            position=_floats(group("PlanePositionSequence").get("ImagePositionPatient"), 3),
            slice_thickness=_float(measures.get("SliceThickness")),
            spacing_between_slices=_float(measures.get("SpacingBetweenSlices")),
            echo_time=_float(group("MREchoSequence").get("EffectiveEchoTime")),
            echo_number=None,
            trigger_time=_float(group("CardiacSynchronizationSequence").get(
                "NominalCardiacTriggerDelayTime")),
            temporal_position=_int(content.get("TemporalPositionIndex")),
            rescale_slope=_float(transform.get("RescaleSlope"),
                                 _float(dataset.get("RescaleSlope"), 1.0)),
            rescale_intercept=_float(transform.get("RescaleIntercept"),
                                     _float(dataset.get("RescaleIntercept"), 0.0)),
            scale_slope=_scale_slope(dataset, items, rules, common["manufacturer"]),
        ))
    return slices


def _common_fields(dataset: Dataset, path: Path, rules: tuple[PrivateTagRule, ...]) -> dict:
    uid = _text(dataset.get("SeriesInstanceUID"))
    number = _int(dataset.get("SeriesNumber"))
    description = _text(dataset.get("SeriesDescription"))
    key = ("uid", uid) if uid else ("no-uid", number, description, str(path.parent))
    manufacturer = _text(dataset.get("Manufacturer"))
    return {
        "series_key": key,
        "series_uid": uid,
        "series_number": number,
        "description": description,
        "protocol": _text(dataset.get("ProtocolName")),
        "modality": _text(dataset.get("Modality")),
        "manufacturer": manufacturer,
        "image_type": tuple(str(v).upper() for v in _as_list(dataset.get("ImageType"))),
        "rows": int(dataset.Rows),
        "columns": int(dataset.Columns),
        "acquisition_number": _int(dataset.get("AcquisitionNumber")),
        "instance_number": _int(dataset.get("InstanceNumber")),
        "t2_preparation": _text(dataset.get("T2Preparation")),
        "scanning_sequence": _text(dataset.get("ScanningSequence")),
        "sequence_variant": _text(dataset.get("SequenceVariant")),
        "sequence_name": _text(dataset.get("SequenceName")),
        "pulse_sequence_name": _text(dataset.get("PulseSequenceName")),
        "echo_pulse_sequence": _text(dataset.get("EchoPulseSequence")),
        "private_times": _private_times(dataset, rules, manufacturer),
    }


def _rule_applies(rule: PrivateTagRule, manufacturer: str) -> bool:
    return rule.enabled and rule.manufacturer.lower() in manufacturer.lower()


def _private_times(dataset: Dataset, rules: tuple[PrivateTagRule, ...],
                   manufacturer: str) -> dict[str, tuple[float, str]]:
    found: dict[str, tuple[float, str]] = {}
    for rule in rules:
        if rule.meaning not in TIME_MEANINGS or not _rule_applies(rule, manufacturer):
            continue
        value = _tag_value(dataset, rule)
        if value is not None and rule.meaning not in found:
            value_ms = round(value * UNIT_TO_MS[rule.unit], 6)
            found[rule.meaning] = (value_ms, f"tag {rule.tag_text} = {value:g} {rule.unit}")
    return found


def _scale_slope(dataset: Dataset, items: list[Dataset], rules: tuple[PrivateTagRule, ...],
                 manufacturer: str) -> float | None:
    for rule in rules:
        if rule.meaning != "scale_slope" or not _rule_applies(rule, manufacturer):
            continue
        for source in (dataset, *items):
            value = _tag_value(source, rule)
            if value:
                return value
    return None


def _tag_value(dataset: Dataset, rule: PrivateTagRule) -> float | None:
    try:
        if rule.creator:
            element = dataset.get_private_item(rule.group, rule.element, rule.creator)
        else:
            element = dataset[(rule.group << 16) | rule.element]
    except (KeyError, ValueError):
        return None
    value = element.value
    if isinstance(value, bytes):
        return _decode_bytes(value)
    return _float(value)


def _decode_bytes(raw: bytes) -> float | None:
    """Value of an element whose VR is unknown (implicit VR, not in the dictionary)."""
    text = raw.rstrip(b"\x00 ").decode("ascii", errors="ignore").strip()
    try:
        return float(text.split("\\")[0])
    except ValueError:
        pass
    if len(raw) == 4:
        return float(struct.unpack("<f", raw)[0])
    if len(raw) == 8:
        return float(struct.unpack("<d", raw)[0])
    return None


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _text(value) -> str:
    if value is None:
        return ""
    items = _as_list(value)
    return "\\".join(str(v) for v in items).strip()


def _float(value, default: float | None = None) -> float | None:
    items = _as_list(value)
    if not items or items[0] in ("", None):
        return default
    try:
        return float(items[0])
    except (TypeError, ValueError):
        return default


def _int(value) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _floats(value, count: int) -> tuple[float, ...] | None:
    items = _as_list(value)
    if len(items) != count:
        return None
    try:
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None
