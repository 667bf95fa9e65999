"""Fitted maps -> volume nodes on the input grid, named by map and method, with units.

For each map (``T1rho``, ``T2``, or the echo map) a run adds four nodes, all on the grid of
the weighted images they came from:

==============================  ==================  =================================
name                            node                holds
==============================  ==================  =================================
``T1rho NLLS``                  scalar volume       T in ms (NaN where not fitted)
``T1rho NLLS SD``               scalar volume       uncertainty (SD) of T in ms
``T1rho NLLS R2``               scalar volume       coefficient of determination
``T1rho NLLS status``           labelmap volume     :class:`FitStatus` code per voxel
``T1rho network heteu           scalar volume       predicted per-pixel Laplace scale σ
uncertainty``                                       (HETEU networks only; signal units)
==============================  ==================  =================================

Each carries ``QMRI.*`` attributes (map, method, output kind, quantity, unit) and, for the
ms maps, Slicer's voxel value quantity and UCUM unit, which the Data Probe shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import slicer

from ..geometry import Geometry
from ..mapping import MapOutcome
from . import colors, volumes

#: How a method is named in node names and table rows.
METHOD_LABELS = {"nlls": "NLLS", "two-point": "two-point", "network": "network"}

#: Display range (ms) used when a map has no finite value to take a range from.
DEFAULT_RANGES_MS = {"T1rho": (20.0, 80.0), "T2": (20.0, 70.0), "T2star": (5.0, 60.0)}

#: Coding scheme of the quantities that have no standard code (T1rho has none in DICOM).
QUANTITY_SCHEME = "99QMRI"


@dataclass
class MapNodes:
    """The nodes of one map made by one run."""

    map_name: str
    method: str
    value: object
    sd: object
    r2: object
    status: object
    uncertainty: object = None

    def all(self) -> list:
        nodes = [self.value, self.sd, self.r2, self.status]
        return nodes + ([self.uncertainty] if self.uncertainty is not None else [])


def method_label(method: str, model: str | None = None) -> str:
    """Label of a method in node names: ``NLLS``, ``two-point``, ``network <model>``."""
    label = METHOD_LABELS.get(method, method)
    return f"{label} {model}" if model else label


def output_name(map_name: str, label: str, kind: str = "") -> str:
    """``"T1rho NLLS"``, ``"T1rho NLLS SD"`` ...: map, method, then what the node holds."""
    return " ".join(part for part in (map_name, label, kind) if part)


def display_range(values: np.ndarray, roi: np.ndarray | None, map_name: str
                  ) -> tuple[float, float]:
    """Window range in ms.

    With an ROI: its 2nd-98th percentile widened by its spread on both sides, so the liver
    sits mid-scale and the tissue around it still shows. Without one, the typical liver
    range of the map (fluid and vessels would otherwise stretch the window to seconds);
    maps without a typical range use the 2nd-98th percentile of all fitted voxels.
    """
    data = np.asarray(values, dtype=np.float64)
    if roi is None or not roi.any():
        if map_name in DEFAULT_RANGES_MS:
            return DEFAULT_RANGES_MS[map_name]
        selected = data
    else:
        selected = data[roi]
    finite = selected[np.isfinite(selected)]
    if finite.size < 2:
        return DEFAULT_RANGES_MS.get(map_name, (0.0, 100.0))
    low, high = np.percentile(finite, [2.0, 98.0])
    if roi is not None and roi.any():
        spread = max(high - low, 1.0)
        low, high = low - spread, high + spread
    low = max(0.0, float(low))
    return low, max(float(high), low + 1.0)


def add_map_nodes(scene, outcome: MapOutcome, geometry: Geometry, method: str,
                  label: str | None = None, roi: np.ndarray | None = None,
                  attributes: dict[str, str] | None = None) -> MapNodes:
    """Add the value, SD, R² and status nodes of one fitted map; returns them."""
    label = label or method_label(method)
    result = outcome.result
    common = {"QMRI.Map": outcome.name, "QMRI.Method": method, "QMRI.MethodLabel": label,
              "QMRI.TimesMs": " ".join(f"{t:g}" for t in outcome.times_ms),
              **(attributes or {})}

    value = _scalar(scene, result.t_ms, geometry, output_name(outcome.name, label),
                    {**common, "QMRI.Output": "map"}, outcome.name, "ms")
    _show_ms(value, display_range(result.t_ms, roi, outcome.name))

    sd = _scalar(scene, result.sd_ms, geometry, output_name(outcome.name, label, "SD"),
                 {**common, "QMRI.Output": "sd", "QMRI.SdKind": result.sd_kind},
                 f"{outcome.name} SD", "ms")
    finite_sd = np.asarray(result.sd_ms)[np.isfinite(result.sd_ms)]
    high = float(np.percentile(finite_sd, 95)) if finite_sd.size else 10.0
    _show_ms(sd, (0.0, max(high, 1e-3)))

    r2 = _scalar(scene, result.r2, geometry, output_name(outcome.name, label, "R2"),
                 {**common, "QMRI.Output": "r2"}, "R2", "1")
    r2.GetDisplayNode().SetAutoWindowLevel(False)
    r2.GetDisplayNode().SetWindowLevelMinMax(0.0, 1.0)

    status = volumes.add_volume_node(scene, np.asarray(result.status, dtype=np.uint8),
                                     geometry, output_name(outcome.name, label, "status"),
                                     "vtkMRMLLabelMapVolumeNode",
                                     color_node=colors.status_color_node(scene))
    for key, text in {**common, "QMRI.Output": "status", "QMRI.Quantity": "fit status",
                      "QMRI.Unit": "code"}.items():
        status.SetAttribute(key, text)

    uncertainty = None
    scale = getattr(result, "uncertainty", None)
    if scale is not None:
        uncertainty = _scalar(scene, scale, geometry,
                              output_name(outcome.name, label, "uncertainty"),
                              {**common, "QMRI.Output": "uncertainty"},
                              f"{outcome.name} predicted scale", "signal units")
    return MapNodes(outcome.name, method, value, sd, r2, status, uncertainty)


def _scalar(scene, values: np.ndarray, geometry: Geometry, name: str,
            attributes: dict[str, str], quantity: str, unit: str):
    color = colors.relaxation_color_node(scene) if unit == "ms" else None
    node = volumes.add_volume_node(scene, np.asarray(values, dtype=np.float32), geometry, name,
                                   color_node=color)
    for key, text in {**attributes, "QMRI.Quantity": quantity, "QMRI.Unit": unit}.items():
        node.SetAttribute(key, text)
    node.SetVoxelValueQuantity(_coded(quantity, QUANTITY_SCHEME, quantity))
    if unit == "ms":
        node.SetVoxelValueUnits(_coded("ms", "UCUM", "millisecond"))
    return node


def _show_ms(node, value_range: tuple[float, float]) -> None:
    display = node.GetDisplayNode()
    display.SetAutoWindowLevel(False)
    display.SetWindowLevelMinMax(*value_range)


def _coded(value: str, scheme: str, meaning: str):
    entry = slicer.vtkCodedEntry()
    entry.SetValueSchemeMeaning(value, scheme, meaning)
    return entry
