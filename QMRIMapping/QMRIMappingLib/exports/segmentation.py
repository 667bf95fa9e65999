"""The ROI as a Slicer segmentation file (``.seg.nrrd``) and as a DICOM SEG object.

The ``.seg.nrrd`` is written with slicerio, so it opens in Slicer with the segment's name
and colour and reads back in the core (``roi.read_roi``). The DICOM SEG (highdicom) is a
binary segmentation of the liver referencing the source series, for PACS and archives.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import slicerio
from pydicom.sr.codedict import codes

from .. import __version__
from ..errors import UserInputError
from ..geometry import Geometry
from .dicom_source import check_same_grid, read_source_series
from .parametric_map import DEFAULT_BODY_PART, MANUFACTURER, MODEL_NAME
from .plane_geometry import pixel_measures, plane_orientation, plane_positions

DEFAULT_SEGMENT = "Right lobe ROI"
DEFAULT_COLOR = (0.95, 0.85, 0.2)


def write_seg_nrrd(mask: np.ndarray, geometry: Geometry, path: str | Path,
                   segment_name: str = DEFAULT_SEGMENT,
                   color: tuple[float, float, float] = DEFAULT_COLOR) -> Path:
    """Write a ``[k, j, i]`` mask as a one-segment Slicer segmentation file."""
    path = Path(path)
    if not path.name.lower().endswith(".seg.nrrd"):
        raise UserInputError(f"{path} must end in .seg.nrrd")
    mask = np.asarray(mask, dtype=bool).reshape(geometry.array_shape)
    if not mask.any():
        raise UserInputError("the ROI is empty; there is nothing to export")
    segmentation = slicerio.create_segmentation(geometry.size, geometry.ijk_to_lps())
    slicerio.add_segment(segmentation, np.transpose(mask, (2, 1, 0)),
                         {"id": "roi", "name": segment_name, "color": list(color)})
    path.parent.mkdir(parents=True, exist_ok=True)
    slicerio.write_segmentation(str(path), segmentation)
    return path


def dicom_segmentation(mask: np.ndarray, geometry: Geometry, source: list,
                       segment_name: str = DEFAULT_SEGMENT, series_number: int = 9100
                       ) -> hd.seg.Segmentation:
    """A binary DICOM SEG of the liver ROI referencing the ``source`` datasets."""
    mask = np.asarray(mask, dtype=bool).reshape(geometry.array_shape)
    if not mask.any():
        raise UserInputError("the ROI is empty; there is nothing to export")
    check_same_grid(source, geometry)
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label=segment_name[:64],
        segmented_property_category=codes.SCT.AnatomicalStructure,
        segmented_property_type=codes.SCT.Liver,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    seg = hd.seg.Segmentation(
        source_images=source, pixel_array=mask.astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description], series_instance_uid=hd.UID(),
        series_number=series_number, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer=MANUFACTURER, manufacturer_model_name=MODEL_NAME,
        software_versions=__version__, device_serial_number="0",
        plane_positions=plane_positions(geometry), plane_orientation=plane_orientation(geometry),
        pixel_measures=pixel_measures(geometry), omit_empty_frames=False,
        series_description=f"{segment_name} (QMRI)"[:64])
    seg.BodyPartExamined = source[0].get("BodyPartExamined") or DEFAULT_BODY_PART
    return seg


def write_dicom_seg(mask: np.ndarray, geometry: Geometry, source_files: list,
                    path: str | Path, segment_name: str = DEFAULT_SEGMENT) -> Path:
    """Build :func:`dicom_segmentation` against the source files and save it at ``path``."""
    source = read_source_series(source_files)
    dataset = dicom_segmentation(mask, geometry, source, segment_name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path)
    return path
