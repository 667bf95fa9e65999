"""Maps as DICOM Parametric Map objects (highdicom), real-world values in milliseconds.

The map's float32 values are stored as they are (Float Pixel Data) with a Real World Value
Mapping of slope 1 and unit ``ms`` (UCUM), so any DICOM viewer that honours RWVM shows T
in ms, and NaN marks the voxels that were not fitted. The object references the source
series (the shortest-time weighted image the map was fitted from), inherits its patient,
study and frame of reference, and states its plane geometry explicitly.
"""

from __future__ import annotations

import re
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes

from .. import __version__
from ..errors import UserInputError
from ..geometry import Geometry
from .dicom_source import check_same_grid, read_source_series
from .plane_geometry import pixel_measures, plane_orientation, plane_positions

MANUFACTURER = "SlicerMultiTaskQMRI"
MODEL_NAME = "QMRIMappingLib"
DEFAULT_BODY_PART = "LIVER"


def content_label(text: str) -> str:
    """A DICOM Content Label (CS: upper case, digits, space, underscore, 16 characters)."""
    label = re.sub(r"[^A-Z0-9_ ]", "_", text.upper()).strip()[:16]
    return label or "MAP"


def parametric_map(values: np.ndarray, geometry: Geometry, source: list, map_name: str,
                   method_label: str, *, unit: str = "ms", series_number: int = 9000,
                   window: tuple[float, float] | None = None) -> hd.pm.ParametricMap:
    """A Parametric Map dataset of ``values`` ``[k, j, i]`` referencing ``source`` datasets.

    ``unit`` is ``"ms"`` for relaxation maps (UCUM millisecond) or ``"1"`` for unitless
    maps such as R². ``window`` is the display range (low, high) in real-world units.
    """
    array = np.asarray(values, dtype=np.float32).reshape(geometry.array_shape)
    check_same_grid(source, geometry)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        raise UserInputError(f"{map_name} {method_label} has no fitted voxel to export")
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        high = low + 1.0
    unit_code = codes.UCUM.Millisecond if unit == "ms" else codes.UCUM.NoUnits
    mapping = hd.pm.RealWorldValueMapping(
        lut_label=content_label(map_name), lut_explanation=f"{map_name} ({unit})",
        unit=unit_code, value_range=(low, high), slope=1.0, intercept=0.0)
    window_low, window_high = window or (low, high)
    voi = hd.VOILUTTransformation(window_center=(window_low + window_high) / 2.0,
                                  window_width=max(window_high - window_low, 1e-3))
    pm = hd.pm.ParametricMap(
        source_images=source, pixel_array=array, series_instance_uid=hd.UID(),
        series_number=series_number, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer=MANUFACTURER, manufacturer_model_name=MODEL_NAME,
        software_versions=__version__, device_serial_number="0",
        contains_recognizable_visual_features=False, real_world_value_mappings=[mapping],
        voi_lut_transformations=[voi], plane_positions=plane_positions(geometry),
        plane_orientation=plane_orientation(geometry), pixel_measures=pixel_measures(geometry),
        content_label=content_label(f"{map_name} {method_label}"),
        content_description=f"{map_name} map ({method_label}) in {unit}")
    pm.SeriesDescription = f"{map_name} {method_label} ({unit})"[:64]
    # Laterality is conditional on a paired body part; naming the organ settles it.
    pm.BodyPartExamined = source[0].get("BodyPartExamined") or DEFAULT_BODY_PART
    return pm


def write_parametric_map(values: np.ndarray, geometry: Geometry, source_files: list,
                         path: str | Path, map_name: str, method_label: str,
                         **options) -> Path:
    """Build :func:`parametric_map` against the source files and save it at ``path``."""
    source = read_source_series(source_files)
    dataset = parametric_map(values, geometry, source, map_name, method_label, **options)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path)
    return path
