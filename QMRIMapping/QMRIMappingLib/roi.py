"""Read a region of interest (labelmap or Slicer segmentation) onto the grid of the image to fit.

An ROI limits the fit to the liver (or any other region) and selects the voxels that the
summary statistics are taken over. Users draw it in Slicer or another tool, so it arrives
as a NIfTI/NRRD labelmap or as a Slicer ``.seg.nrrd`` segmentation, and often on a grid of
its own (cropped to the segment extent, drawn on another series, resampled). This module
turns any of those into a boolean mask ``[z, y, x]`` on the image grid, placing it in
physical (LPS) space, and says in one line what it used, so the report can quote it.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import nrrd
import numpy as np
import SimpleITK as sitk
import slicerio

from .errors import UserInputError
from .geometry import Geometry

#: File name endings :func:`read_roi` accepts, longest first (``.seg.nrrd`` before ``.nrrd``).
ROI_SUFFIXES = (".seg.nrrd", ".nii.gz", ".nrrd", ".nii")

#: File name endings :func:`write_labelmap` writes.
LABELMAP_SUFFIXES = (".nii.gz", ".nrrd", ".nii")

_SEGMENT_FIELD = re.compile(r"^Segment\d+_")
_MAX_LISTED = 12


def read_roi(path: str | Path, target: Geometry, *, segment: str | None = None,
             label: int | None = None) -> tuple[np.ndarray, str]:
    """Read an ROI file and return ``(mask, description)`` with the mask on ``target``.

    ``path`` is a NIfTI (``.nii``, ``.nii.gz``) or NRRD (``.nrrd``) labelmap, or a Slicer
    segmentation (``.seg.nrrd``, or any ``.nrrd`` carrying Slicer segment metadata; both
    the shared-labelmap and the layered 4-D layout). For a labelmap, ``label`` picks one
    label value, otherwise every non-zero voxel is in the ROI. For a segmentation,
    ``segment`` picks a segment by name (or ID), otherwise the union of all segments is
    used. The mask is a bool array indexed ``[z, y, x]`` with ``target.array_shape``.

    When the ROI grid equals ``target`` it is used voxel for voxel; otherwise it is
    resampled onto ``target`` by nearest neighbour in physical space. A 2-D labelmap is
    accepted for a single-slice image of the same in-plane size and used voxel for voxel.
    The description names the file, what was selected and whether it was resampled.

    Raises :class:`UserInputError` (one line, naming the file) when the file is missing,
    unreadable or of an unknown type, when the segment or label does not exist, and when
    the ROI is empty, lies outside the image or covers no voxel centre of it.
    """
    path = Path(path)
    if segment is not None and label is not None:
        raise UserInputError(f"ROI {path}: give either a segment name or a label value, not both")
    suffix = _suffix(path)
    if suffix is None:
        raise UserInputError(
            f"ROI {path} has an unknown file type; expected one of {', '.join(ROI_SUFFIXES)}")
    if not path.is_file():
        raise UserInputError(f"ROI {path} does not exist")

    if _is_segmentation(path, suffix):
        if label is not None:
            raise UserInputError(
                f"ROI {path} is a Slicer segmentation: choose a segment by name, not label {label}")
        mask, geometry, what = _read_segmentation(path, segment)
        two_d = False
    else:
        if segment is not None:
            raise UserInputError(
                f"ROI {path} is a labelmap without segment names: choose a label value, "
                f"not segment '{segment}'")
        mask, geometry, what, two_d = _read_labelmap(path, label)

    if not mask.any():
        raise UserInputError(f"ROI {path}: {what} is empty")
    if two_d:
        return _place_2d(mask, target, path, what)
    return _place(mask, geometry, target, path, what)


def read_roi_regions(path: str | Path, target: Geometry) -> list[tuple[str, np.ndarray]]:
    """Every region of an ROI file on ``target``: one per label value or per segment.

    Summaries report statistics per region, so a file with right-lobe, left-lobe and
    spleen labels gives three rows. Names are the segment names, or ``label N``.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix is not None and path.is_file() and _is_segmentation(path, suffix):
        header = nrrd.read_header(str(path))
        numbered = [(int(match.group(1)), header[key]) for key in header
                    if (match := re.fullmatch(r"Segment(\d+)_Name", key))]
        names = [name for _, name in sorted(numbered)]
        unique = list(dict.fromkeys(names))
        return [(name, read_roi(path, target, segment=name)[0]) for name in unique]
    mask, _ = read_roi(path, target)
    try:
        labels = np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(path))))
    except RuntimeError:
        labels = np.array([1])
    values = [int(v) for v in labels if v != 0]
    if len(values) <= 1:
        return [(f"label {values[0]}" if values else "roi", mask)]
    return [(f"label {value}", read_roi(path, target, label=value)[0]) for value in values]


def write_labelmap(mask: np.ndarray, geometry: Geometry, path: str | Path) -> Path:
    """Write a mask or small labelmap ``[z, y, x]`` on ``geometry`` as a uint8 NIfTI or NRRD.

    Booleans are written as 0/1; integer arrays must hold values 0 to 255. The format
    follows the file name (``.nii``, ``.nii.gz`` or ``.nrrd``; compressed where the format
    allows), and missing parent folders are created. Returns the path written.
    """
    path = Path(path)
    if _suffix(path, LABELMAP_SUFFIXES) is None:
        raise UserInputError(
            f"labelmap {path} has an unknown file type; expected one of "
            f"{', '.join(LABELMAP_SUFFIXES)}")
    array = np.asarray(mask)
    if array.shape != geometry.array_shape:
        raise ValueError(f"mask shape {array.shape} does not match grid {geometry.array_shape}")
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"labelmap must be bool or integer, not {array.dtype}")
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError("labelmap values must lie in 0..255 to be written as uint8")
    image = geometry.to_sitk(array.astype(np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)
    return path


# --- reading --------------------------------------------------------------------------------


def _suffix(path: Path, suffixes: tuple[str, ...] = ROI_SUFFIXES) -> str | None:
    name = path.name.lower()
    for suffix in suffixes:
        if name.endswith(suffix):
            return suffix
    return None


def _is_segmentation(path: Path, suffix: str) -> bool:
    """A ``.nrrd`` file is a segmentation when its header carries Slicer segment fields.

    Checking the header rather than the name also handles a plain labelmap saved as
    ``.seg.nrrd`` and a segmentation saved as ``.nrrd``.
    """
    if suffix not in (".seg.nrrd", ".nrrd"):
        return False
    try:
        header = nrrd.read_header(str(path))
    except (nrrd.NRRDError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise UserInputError(f"ROI {path} is not a readable NRRD file ({_one_line(exc)})") from exc
    return any(_SEGMENT_FIELD.match(key) for key in header)


def _read_labelmap(path: Path, label: int | None) -> tuple[np.ndarray, Geometry, str, bool]:
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise UserInputError(f"ROI {path} could not be read ({_itk_reason(exc)})") from exc
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise UserInputError(
            f"ROI {path} has {image.GetNumberOfComponentsPerPixel()} components per voxel; "
            "expected a single-component labelmap")
    dimension = image.GetDimension()
    if dimension not in (2, 3):
        raise UserInputError(f"ROI {path} is {dimension}-D; expected a 2-D or 3-D labelmap")
    array = sitk.GetArrayFromImage(image)
    if dimension == 2:
        array = array[np.newaxis]
    if not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise UserInputError(
                f"ROI {path} holds non-integer values; expected a labelmap (0 = background)")
    values = np.unique(array)
    labels = [int(v) for v in values if v != 0]
    if label is None:
        mask = array != 0
        if len(labels) == 1:
            what = f"label {labels[0]} of {path.name}"
        else:
            what = f"all non-zero labels ({_listing(labels)}) of {path.name}"
    else:
        if int(label) not in labels:
            present = _listing(labels) if labels else "none"
            raise UserInputError(
                f"ROI {path} has no label {label}; labels present: {present}")
        mask = array == label
        what = f"label {int(label)} of {path.name}"
    return mask, Geometry.from_sitk(image), what, dimension == 2


def _read_segmentation(path: Path, segment: str | None) -> tuple[np.ndarray, Geometry, str]:
    try:
        segmentation = slicerio.read_segmentation(str(path))
    except (OSError, ValueError, KeyError, EOFError, zlib.error, nrrd.NRRDError) as exc:
        raise UserInputError(
            f"ROI {path} could not be read as a Slicer segmentation ({_one_line(exc)})") from exc
    voxels = segmentation.get("voxels")
    segments = list(segmentation.get("segments") or [])
    if voxels is None or voxels.ndim not in (3, 4):
        raise UserInputError(f"ROI {path} is not a 3-D Slicer segmentation")
    if not segments:
        raise UserInputError(f"ROI {path} contains no segments")

    names = [str(s.get("name", s.get("id", "?"))) for s in segments]
    if segment is None:
        chosen = segments
        if len(segments) == 1:
            what = f"segment '{names[0]}' (the only one) of {path.name}"
        else:
            quoted = ", ".join(f"'{n}'" for n in names)
            what = f"union of all {len(segments)} segments ({quoted}) of {path.name}"
    else:
        chosen = [s for s in segments if s.get("name") == segment]
        if not chosen:
            chosen = [s for s in segments if s.get("id") == segment]
        if not chosen:
            available = ", ".join(f"'{n}'" for n in names)
            raise UserInputError(
                f"ROI {path} has no segment named '{segment}'; available: {available}")
        what = f"segment '{segment}' of {path.name}"
        if len(chosen) > 1:
            what = f"union of the {len(chosen)} segments named '{segment}' of {path.name}"

    # slicerio keeps the NRRD axis order (i, j, k), or (layer, i, j, k) for layered files;
    # segment_mask picks the right layer and label value for each segment.
    mask_ijk = np.zeros(voxels.shape[-3:], dtype=bool)
    for entry in chosen:
        mask_ijk |= slicerio.segment_mask(segmentation, entry)
    return mask_ijk.transpose(2, 1, 0), _geometry_from_ijk_to_lps(
        segmentation["ijkToLPS"], voxels.shape[-3:], path), what


def _geometry_from_ijk_to_lps(matrix, shape_ijk, path: Path) -> Geometry:
    matrix = np.asarray(matrix, dtype=float)
    axes = matrix[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    if not np.all(np.isfinite(axes)) or np.any(spacing <= 0):
        raise UserInputError(f"ROI {path} has an invalid voxel spacing {spacing.tolist()}")
    direction = axes / spacing
    return Geometry(
        size=tuple(int(v) for v in shape_ijk),
        spacing=tuple(float(v) for v in spacing),
        origin=tuple(float(v) for v in matrix[:3, 3]),
        direction=tuple(float(v) for v in direction.ravel()),
    )


# --- placing on the image grid --------------------------------------------------------------


def _place(mask: np.ndarray, source: Geometry, target: Geometry, path: Path,
           what: str) -> tuple[np.ndarray, str]:
    difference = target.mismatch(source)
    if difference is None:
        return mask.copy(), f"{what}, on the image grid"
    if not _foreground_overlaps(mask, source, target):
        raise UserInputError(f"ROI {path} does not overlap the image ({what})")
    resampled = _resample_nearest(mask, source, target)
    if not resampled.any():
        raise UserInputError(
            f"ROI {path} is empty after resampling onto the image grid: {what} covers no "
            "voxel centre of the image")
    return resampled, (f"{what}, resampled onto the image grid by nearest neighbour "
                       f"because its {difference}")


def _place_2d(mask: np.ndarray, target: Geometry, path: Path, what: str) -> tuple[np.ndarray, str]:
    """Use a 2-D ROI voxel for voxel on a single-slice image of the same size.

    A 2-D file has no slice position or orientation, so it cannot be placed in space;
    the only safe reading is the one the user meant: the same pixels as the image.
    """
    if target.size[2] != 1:
        raise UserInputError(
            f"ROI {path} is 2-D but the image has {target.size[2]} slices; "
            "save the ROI as a 3-D labelmap or segmentation")
    if mask.shape != target.array_shape:
        raise UserInputError(
            f"ROI {path} is 2-D with {mask.shape[2]}x{mask.shape[1]} pixels but the image "
            f"slice has {target.size[0]}x{target.size[1]}; save the ROI on the image grid")
    return mask.copy(), f"{what}, 2-D, used pixel for pixel on the single-slice image"


def _foreground_overlaps(mask: np.ndarray, source: Geometry, target: Geometry) -> bool:
    """Whether the box around the ROI voxels meets the image box (both in physical space).

    Compares the ROI's bounding box, mapped into the image's continuous index space, with
    the image extent; a miss here means no resampling can put any ROI voxel in the image.
    """
    k, j, i = np.nonzero(mask)
    low = np.array([i.min(), j.min(), k.min()], dtype=float) - 0.5
    high = np.array([i.max(), j.max(), k.max()], dtype=float) + 0.5
    corners = np.array([[x, y, z, 1.0] for x in (low[0], high[0]) for y in (low[1], high[1])
                        for z in (low[2], high[2])])
    lps = corners @ source.ijk_to_lps().T
    in_target = lps @ np.linalg.inv(target.ijk_to_lps()).T
    lower = in_target[:, :3].min(axis=0)
    upper = in_target[:, :3].max(axis=0)
    extent = np.asarray(target.size, dtype=float) - 0.5
    return bool(np.all(upper > -0.5) and np.all(lower < extent))


def _resample_nearest(mask: np.ndarray, source: Geometry, target: Geometry) -> np.ndarray:
    resampler = sitk.ResampleImageFilter()
    resampler.SetSize([int(v) for v in target.size])
    resampler.SetOutputSpacing(target.spacing)
    resampler.SetOutputOrigin(target.origin)
    resampler.SetOutputDirection(target.direction)
    resampler.SetTransform(sitk.Transform())
    resampler.SetInterpolator(sitk.sitkNearestNeighbor)
    resampler.SetDefaultPixelValue(0)
    resampler.SetOutputPixelType(sitk.sitkUInt8)
    resampled = resampler.Execute(source.to_sitk(mask.astype(np.uint8)))
    return sitk.GetArrayFromImage(resampled).astype(bool)


# --- messages -------------------------------------------------------------------------------


def _listing(values: list[int]) -> str:
    shown = ", ".join(str(v) for v in values[:_MAX_LISTED])
    return shown + (", ..." if len(values) > _MAX_LISTED else "")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def _itk_reason(exc: RuntimeError) -> str:
    """The readable part of a SimpleITK exception (which spans several lines)."""
    for line in str(exc).splitlines():
        for marker in ("ITK ERROR:", "sitk::ERROR:"):
            if marker in line:
                reason = line.split(marker, 1)[1]
                # ITK prefixes the class and object address: "ImageFileReader(0x...): ..."
                reason = re.sub(r"^\s*\w+\(0x[0-9a-fA-F]+\):", "", reason)
                return _one_line(RuntimeError(reason))
    return _one_line(exc)
