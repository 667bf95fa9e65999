"""Signal decay plots: measured signal and fitted curve for the ROI mean and one voxel.

One chart per map (``"T1rho NLLS decay"``) with four series: the ROI-mean signal at each
preparation time (markers), a mono-exponential fitted to that mean (line), and the same
two for a voxel the user picks (markers, and the curve of that voxel's own fit from the
maps). The data live in two table nodes (measured points, dense fitted curves), so the
plot is saved with the scene and can be exported as CSV from Slicer's Tables module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import vtk

from ..fitting import fit_relaxation
from ..geometry import Geometry
from ..mapping import MapOutcome
from ..mapping_input import WeightedImage

TIME_COLUMN = "Time (ms)"
CURVE_POINTS = 61


def voxel_from_ras(geometry: Geometry, ras: tuple[float, float, float]
                   ) -> tuple[int, int, int] | None:
    """Array index ``(k, j, i)`` of the voxel containing RAS point ``ras``, or None outside."""
    ijk = np.linalg.inv(geometry.ijk_to_ras()) @ np.array([*ras, 1.0])
    index = np.rint(ijk[:3]).astype(int)
    if np.any(index < 0) or np.any(index >= np.array(geometry.size)):
        return None
    return int(index[2]), int(index[1]), int(index[0])


def exponential(times: np.ndarray, s0: float, t_ms: float) -> np.ndarray:
    """S0·exp(−t/T), NaN everywhere when the fit gave no value."""
    if not (np.isfinite(s0) and np.isfinite(t_ms) and t_ms > 0):
        return np.full(np.shape(times), np.nan)
    return s0 * np.exp(-np.asarray(times, dtype=float) / t_ms)


@dataclass
class DecayPlot:
    """A map's decay chart with the data to redraw its voxel curves."""

    map_name: str
    label: str
    times_ms: np.ndarray
    signal: np.ndarray            # (n_times, z, y, x)
    s0: np.ndarray
    t_ms: np.ndarray
    chart: object = None
    points_table: object = None
    curve_table: object = None
    series: list = field(default_factory=list)
    voxel: tuple[int, int, int] | None = None

    @property
    def curve_times(self) -> np.ndarray:
        return np.linspace(0.0, float(self.times_ms.max()) * 1.1, CURVE_POINTS)

    def nodes(self) -> list:
        return [self.chart, self.points_table, self.curve_table, *self.series]

    def set_voxel(self, voxel: tuple[int, int, int] | None) -> None:
        """Show the measured signal and fitted curve of voxel ``(k, j, i)`` (None hides)."""
        self.voxel = voxel
        if voxel is None:
            measured = np.full(self.times_ms.shape, np.nan)
            curve = np.full(CURVE_POINTS, np.nan)
            title = "Voxel (none picked)"
        else:
            measured = self.signal[(slice(None), *voxel)].astype(float)
            curve = exponential(self.curve_times, float(self.s0[voxel]), float(self.t_ms[voxel]))
            k, j, i = voxel
            title = f"Voxel ({i}, {j}, {k})"
        _set_column(self.points_table, "Voxel", measured)
        _set_column(self.curve_table, "Voxel fit", curve)
        for series in self.series[2:]:
            series.SetName(f"{self.map_name} {self.label} {title}"
                           + (" fit" if series.GetYColumnName() == "Voxel fit" else ""))
        self.points_table.Modified()
        self.curve_table.Modified()


def add_decay_plot(scene, outcome: MapOutcome, images: list[WeightedImage],
                   roi: np.ndarray | None, label: str,
                   voxel: tuple[int, int, int] | None = None) -> DecayPlot:
    """Chart, tables and series of one map's decay; ``images`` are all of the map's images."""
    ordered = sorted(images, key=lambda image: image.time_ms)
    times = np.array([image.time_ms for image in ordered], dtype=float)
    signal = np.stack([image.data for image in ordered])
    region = roi if roi is not None and roi.any() else np.isfinite(outcome.result.t_ms)
    mean = signal[:, region].astype(float).mean(axis=1) if region.any() else \
        np.full(times.shape, np.nan)
    fit = fit_relaxation(mean[:, None], times)
    plot = DecayPlot(outcome.name, label, times, signal, outcome.result.s0, outcome.result.t_ms)
    base = f"{outcome.name} {label} decay"

    plot.points_table = _table(scene, f"{base} points",
                               {TIME_COLUMN: times, "ROI mean": mean,
                                "Voxel": np.full(times.shape, np.nan)})
    curve_times = plot.curve_times
    plot.curve_table = _table(scene, f"{base} curves",
                              {TIME_COLUMN: curve_times,
                               "ROI mean fit": exponential(curve_times, float(fit.s0[0]),
                                                           float(fit.t_ms[0])),
                               "Voxel fit": np.full(curve_times.shape, np.nan)})
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", base)
    chart.SetTitle(f"{outcome.name} signal decay ({label})")
    chart.SetXAxisTitle("preparation time (ms)")
    chart.SetYAxisTitle("signal (a.u.)")
    chart.SetAttribute("QMRI.Output", "decay plot")
    plot.chart = chart
    specs = (("ROI mean", plot.points_table, "ROI mean", True, (0.9, 0.6, 0.1)),
             (f"ROI mean fit (T {float(fit.t_ms[0]):.1f} ms)", plot.curve_table,
              "ROI mean fit", False, (0.9, 0.6, 0.1)),
             ("Voxel", plot.points_table, "Voxel", True, (0.2, 0.5, 0.9)),
             ("Voxel fit", plot.curve_table, "Voxel fit", False, (0.2, 0.5, 0.9)))
    for title, table, column, markers, color in specs:
        series = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode",
                                         f"{outcome.name} {label} {title}")
        series.SetAndObserveTableNodeID(table.GetID())
        series.SetXColumnName(TIME_COLUMN)
        series.SetYColumnName(column)
        series.SetPlotType(series.PlotTypeScatter)
        series.SetColor(*color)
        if markers:
            series.SetLineStyle(series.LineStyleNone)
            series.SetMarkerStyle(series.MarkerStyleCircle)
        else:
            series.SetMarkerStyle(series.MarkerStyleNone)
            series.SetLineStyle(series.LineStyleSolid)
        chart.AddAndObservePlotSeriesNodeID(series.GetID())
        plot.series.append(series)
    plot.set_voxel(voxel)
    return plot


def _table(scene, name: str, columns: dict[str, np.ndarray]):
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    for column, values in columns.items():
        array = vtk.vtkDoubleArray()
        array.SetName(column)
        array.SetNumberOfValues(len(values))
        for index, value in enumerate(values):
            array.SetValue(index, float(value))
        table.AddColumn(array)
    table.SetColumnUnitLabel(TIME_COLUMN, "ms")
    table.SetAttribute("QMRI.Output", "decay data")
    return table


def _set_column(table, column: str, values: np.ndarray) -> None:
    array = table.GetTable().GetColumnByName(column)
    for index, value in enumerate(values):
        array.SetValue(index, float(value))
    array.Modified()
