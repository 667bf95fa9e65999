"""Turn the slices of one DICOM series into 3-D volumes: split, sort, grid and pixel values.

Geometry follows SimpleITK's DICOM series reader (LPS, arrays ``[z, y, x]``): slices are
sorted by their position along the slice normal n = row cosine x column cosine; the
origin is the ImagePositionPatient of the first slice; the direction columns are the
row cosine, the column cosine and n; x/y spacing are PixelSpacing[1]/PixelSpacing[0]
(DICOM gives row spacing first) and z spacing is the distance between the first and last
slice along n divided by (slices - 1).

Pixel values: stored value PV -> PV * RescaleSlope + RescaleIntercept. For Philips images
that carry the private floating-point scale slope SS (2005,xx0E, creator "Philips MR
Imaging DD 001") the value becomes Philips' floating-point value

    FP = (PV * RS + RI) / (RS * SS)

i.e. the displayed value divided by RS*SS. Displayed values of two Philips series with
different RescaleSlopes are not on one scale; FP values are, which is what a fit of
signal against time across series needs.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk

from ..errors import UserInputError
from ..geometry import Geometry
from .dicom_scan import SliceHeader, group_series, scan_files
from .time_rules import BUILTIN_PRIVATE_TAGS, fmt_ms

#: Header values that can tell the volumes of one series apart, tried in order.
SPLIT_KEYS = (
    ("EchoTime", lambda s: s.echo_time, "TE {} ms"),
    ("EchoNumbers", lambda s: s.echo_number, "echo {}"),
    ("private preparation time", lambda s: tuple(sorted(s.private_times.items())) or None,
     "prep {}"),
    ("TriggerTime", lambda s: s.trigger_time, "TriggerTime {} ms"),
    ("TemporalPositionIdentifier", lambda s: s.temporal_position, "temporal position {}"),
    ("AcquisitionNumber", lambda s: s.acquisition_number, "acquisition {}"),
)


def split_series(slices: list[SliceHeader]) -> tuple[list[tuple[str, list[SliceHeader]]],
                                                     str, str | None]:
    """Split one series into volumes.

    Returns ``([(volume label, slices), ...], name of the splitting key, problem)``. A
    series whose slice positions are all different is one volume; otherwise the first
    key of :data:`SPLIT_KEYS` that cuts it into equal groups of distinct positions is used.
    """
    problem = _consistency_problem(slices)
    if problem:
        return [], "", problem
    normal = _normal(slices[0].orientation)
    positions = [round(float(np.dot(s.position, normal)), 3) for s in slices]
    if len(set(positions)) == len(slices):
        return [("", slices)], "", None
    for name, key, label in SPLIT_KEYS:
        groups: dict = defaultdict(list)
        for item, position in zip(slices, positions, strict=True):
            groups[key(item)].append((item, position))
        if len(groups) < 2:
            continue
        sizes = {len(members) for members in groups.values()}
        distinct = all(len({p for _, p in members}) == len(members)
                       for members in groups.values())
        if len(sizes) == 1 and distinct:
            ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, _sort_key(kv[0])))
            return [(label.format(_fmt_key(value)), [item for item, _ in members])
                    for value, members in ordered], name, None
    return [], "", ("slice positions repeat and no EchoTime, EchoNumbers, TriggerTime, "
                    "TemporalPositionIdentifier or AcquisitionNumber splits them into volumes")


def sort_and_geometry(slices: list[SliceHeader]) -> tuple[list[SliceHeader], Geometry,
                                                          list[str]]:
    """Sort the slices of one volume along the normal and build its :class:`Geometry`."""
    notes: list[str] = []
    row, column = (_unit(slices[0].orientation[:3]), _unit(slices[0].orientation[3:]))
    normal = _normal(slices[0].orientation)
    positions = np.array([s.position for s in slices], dtype=float)
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    ordered = [slices[i] for i in order]
    positions, along = positions[order], along[order]
    spacing_yx = ordered[0].pixel_spacing
    if spacing_yx is None:
        spacing_yx = (1.0, 1.0)
        notes.append("PixelSpacing missing: 1 mm assumed")
    if len(ordered) > 1:
        spacing_z = float(along[-1] - along[0]) / (len(ordered) - 1)
        steps = np.diff(along)
        if float(np.ptp(steps)) > max(0.01 * spacing_z, 1e-3):
            notes.append(f"uneven slice spacing ({steps.min():.3f}-{steps.max():.3f} mm); "
                         f"mean {spacing_z:.3f} mm used")
        drift = positions - positions[0] - np.outer(along - along[0], normal)
        if float(np.abs(drift).max()) > 0.01 * max(spacing_z, 1.0):
            notes.append("slice positions are not along the slice normal (gantry tilt?); "
                         "the grid follows the normal")
    else:
        spacing_z = (ordered[0].spacing_between_slices or ordered[0].slice_thickness or 1.0)
    direction = np.column_stack([row, column, normal])
    geometry = Geometry(
        size=(ordered[0].columns, ordered[0].rows, len(ordered)),
        spacing=(float(spacing_yx[1]), float(spacing_yx[0]), float(spacing_z)),
        origin=tuple(float(v) for v in positions[0]),
        direction=tuple(float(v) for v in direction.ravel()),
    )
    return ordered, geometry, notes


class PixelCache:
    """Keeps decoded multi-frame files while their volumes are read (one file, many frames)."""

    def __init__(self) -> None:
        self._arrays: dict[Path, tuple[np.ndarray, bool]] = {}

    def stored(self, path: Path, multi_frame: bool) -> tuple[np.ndarray, bool]:
        """The stored pixel values of ``path`` and whether they are already rescaled."""
        if path in self._arrays:
            return self._arrays[path]
        found = _decode(path)
        if multi_frame:
            self._arrays[path] = found
        return found

    def clear(self) -> None:
        self._arrays.clear()


def read_pixels(slices: list[SliceHeader], cache: PixelCache | None = None
                ) -> tuple[np.ndarray, str]:
    """Read and scale the pixels of sorted ``slices`` into float32 ``[z, y, x]``."""
    cache = cache or PixelCache()
    first = slices[0]
    data = np.empty((len(slices), first.rows, first.columns), dtype=np.float32)
    scalings: set[tuple] = set()
    for index, item in enumerate(slices):
        stored, rescaled = cache.stored(item.path, item.frame is not None)
        if stored.ndim == 3:
            stored = stored[item.frame or 0]
        if stored.shape != (item.rows, item.columns):
            raise UserInputError(f"pixel data of {item.path} has shape {stored.shape}, header "
                                 f"says {item.rows}x{item.columns}; the file is damaged")
        slope, intercept, scale = item.rescale_slope, item.rescale_intercept, item.scale_slope
        values = stored.astype(np.float64)
        if not rescaled:
            values = values * slope + intercept
        if scale and slope:
            values /= slope * scale
        else:
            scale = None
        data[index] = values
        scalings.add((slope, intercept, scale, rescaled))
    return data, _scaling_note(scalings)


def read_dicom_series(files: list[Path]) -> tuple[np.ndarray, Geometry]:
    """Read one DICOM series (one volume) into float32 ``[z, y, x]`` and its geometry.

    Raises :class:`UserInputError` when the files hold no image, several series or
    several volumes (e.g. echoes) — use :func:`load_input` for those.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise UserInputError("read_dicom_series: no files given; pass the files of one series")
    root = _common_root(paths)
    slices, notes = scan_files(paths, root, BUILTIN_PRIVATE_TAGS)
    if not slices:
        detail = f" ({notes[0]})" if notes else ""
        raise UserInputError(f"no DICOM image among the {len(paths)} files given{detail}")
    series = group_series(slices)
    if len(series) > 1:
        raise UserInputError(f"the {len(paths)} files hold {len(series)} series; pass the "
                             "files of one series")
    volumes, key, problem = split_series(next(iter(series.values())))
    if problem:
        raise UserInputError(f"cannot build a volume from {paths[0].parent}: {problem}")
    if len(volumes) > 1:
        raise UserInputError(f"the files hold {len(volumes)} volumes (split by {key}); use "
                             "load_input for multi-volume series")
    ordered, geometry, _ = sort_and_geometry(volumes[0][1])
    data, _ = read_pixels(ordered)
    return data, geometry


def _decode(path: Path) -> tuple[np.ndarray, bool]:
    """Decode with pydicom; fall back to SimpleITK/GDCM (which also applies the rescale)."""
    try:
        dataset = pydicom.dcmread(path)
        return dataset.pixel_array, False
    except Exception as pydicom_error:  # missing codec, odd transfer syntax ...
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError:
            raise UserInputError(
                f"cannot decode the pixel data of {path} ({pydicom_error}); install a codec "
                "for its transfer syntax (e.g. pylibjpeg) or convert the files") from None
        array = sitk.GetArrayFromImage(image)
        return (array[0] if array.ndim == 3 and array.shape[0] == 1 else array), True


def _scaling_note(scalings: set[tuple]) -> str:
    philips = [s for s in scalings if s[2]]
    decoded = any(s[3] for s in scalings)
    prefix = "decoded by SimpleITK/GDCM (rescale applied there); " if decoded else ""
    if philips:
        if len(scalings) == 1:
            slope, intercept, scale, _ = philips[0]
            return (prefix + "Philips floating-point values FP = (PV*RS + RI)/(RS*SS) with "
                    f"RS={slope:g}, RI={intercept:g}, SS={scale:g} (private scale slope "
                    "2005,xx0E)")
        return (prefix + "Philips floating-point values FP = (PV*RS + RI)/(RS*SS), "
                f"{len(scalings)} different RS/RI/SS combinations over the slices")
    changed = [s for s in scalings if (s[0], s[1]) != (1.0, 0.0)]
    if not changed:
        return prefix.rstrip("; ")
    if len(scalings) == 1:
        slope, intercept, _, _ = changed[0]
        return prefix + f"stored values x RescaleSlope {slope:g} + RescaleIntercept {intercept:g}"
    return prefix + (f"stored values x RescaleSlope + RescaleIntercept, {len(scalings)} "
                     "different pairs over the slices")


def _consistency_problem(slices: list[SliceHeader]) -> str | None:
    if any(s.orientation is None or s.position is None for s in slices):
        return "slices lack ImagePositionPatient/ImageOrientationPatient"
    orientations = {tuple(round(v, 4) for v in s.orientation) for s in slices}
    if len(orientations) > 1:
        return (f"slices have {len(orientations)} different orientations (a multi-plane "
                "localizer?)")
    if len({(s.rows, s.columns) for s in slices}) > 1:
        return "slices have different matrix sizes"
    if len({s.pixel_spacing for s in slices}) > 1:
        return "slices have different pixel spacings"
    return None


def _unit(vector) -> np.ndarray:
    array = np.asarray(vector, dtype=float)
    return array / np.linalg.norm(array)


def _normal(orientation) -> np.ndarray:
    return _unit(np.cross(_unit(orientation[:3]), _unit(orientation[3:])))


def _sort_key(value):
    return value if not isinstance(value, tuple) else tuple(v for _, (v, _) in value)


def _fmt_key(value) -> str:
    if isinstance(value, float):
        return fmt_ms(value)
    if isinstance(value, tuple):
        return ", ".join(f"{meaning} {fmt_ms(ms)} ms" for meaning, (ms, _) in value)
    return str(value)


def _common_root(paths: list[Path]) -> Path:
    parents = [p.parent for p in paths]
    common = parents[0]
    for parent in parents[1:]:
        while common not in (parent, *parent.parents) and common != common.parent:
            common = common.parent
    return common
