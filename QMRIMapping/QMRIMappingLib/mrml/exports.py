"""Export a finished run's maps and ROI to files, from the nodes in the scene.

Reads the arrays back from the result nodes (so edits made in Slicer are exported as
shown) and writes them with :mod:`QMRIMappingLib.exports`. DICOM objects reference the
source series of the map's shortest-time image: the files recorded on its volume node
(``QMRI.SourceFiles``, set by the folder import; the module fills it for volumes loaded
through Slicer's DICOM database).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserInputError
from ..exports import write_dicom_seg, write_map_image, write_parametric_map, write_seg_nrrd
from . import volumes
from .session import MappingResult

FORMATS = ("nrrd", "nifti", "dicom-pm", "seg-nrrd", "dicom-seg")


def file_stem(name: str) -> str:
    """A file name from a node name (``"T1rho NLLS SD"`` -> ``"T1rho_NLLS_SD"``)."""
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name).strip("_")


def source_files(result: MappingResult, map_name: str | None = None) -> list[str]:
    """Source DICOM files of the shortest-time image of ``map_name`` (or of the input)."""
    images = result.mapping_input.map_series().get(map_name) if map_name else None
    first = min(images or result.mapping_input.images, key=lambda image: image.time_ms)
    return list(first.metadata.get("files", []))


def export_result(result: MappingResult, folder: str | Path,
                  formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Write the maps (value, SD, R²) and the ROI in ``formats``; returns {what: path}.

    ``dicom-pm`` and ``dicom-seg`` need DICOM source files; without them they are refused
    with a message unless other formats were asked for too, in which case they are skipped
    and listed under ``"skipped"`` in the returned dict's keys.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise UserInputError(f"unknown export format(s) {', '.join(sorted(unknown))}; use "
                             f"{', '.join(FORMATS)}")
    folder = Path(folder)
    geometry = result.mapping_input.geometry
    written: dict[str, Path] = {}
    for map_name, group in result.maps.items():
        sources = source_files(result, map_name)
        for node, unit in ((group.value, "ms"), (group.sd, "ms"), (group.r2, "1")):
            values = volumes.array_from_node(node)
            stem = file_stem(node.GetName())
            quantity = node.GetAttribute("QMRI.Quantity") or ""
            if "nrrd" in formats:
                written[f"{node.GetName()} nrrd"] = write_map_image(
                    values, geometry, folder / f"{stem}.nrrd", quantity, unit)
            if "nifti" in formats:
                written[f"{node.GetName()} nifti"] = write_map_image(
                    values, geometry, folder / f"{stem}.nii.gz", quantity, unit)
            if "dicom-pm" in formats and node is group.value:
                if not sources:
                    _skip(written, formats, f"{node.GetName()} dicom-pm")
                    continue
                display = node.GetDisplayNode()
                window = (display.GetWindowLevelMin(), display.GetWindowLevelMax()) \
                    if display is not None else None
                written[f"{node.GetName()} dicom-pm"] = write_parametric_map(
                    values, geometry, sources, folder / f"{stem}.pm.dcm", map_name,
                    group.value.GetAttribute("QMRI.MethodLabel") or group.method,
                    window=window)
    if result.roi_mask is not None:
        if "seg-nrrd" in formats:
            written["ROI seg-nrrd"] = write_seg_nrrd(result.roi_mask, geometry,
                                                     folder / "ROI.seg.nrrd")
        if "dicom-seg" in formats:
            sources = source_files(result)
            if sources:
                written["ROI dicom-seg"] = write_dicom_seg(result.roi_mask, geometry, sources,
                                                           folder / "ROI.seg.dcm")
            else:
                _skip(written, formats, "ROI dicom-seg")
    return written


def _skip(written: dict, formats: tuple[str, ...], what: str) -> None:
    if set(formats) <= {"dicom-pm", "dicom-seg"}:
        raise UserInputError(f"{what}: the images were not loaded from DICOM, so there is no "
                             "source series to reference")
    written[f"skipped: {what} (no DICOM source series)"] = Path()
