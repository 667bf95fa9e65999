"""ROI statistics of the maps, and their RMAE against a reference, as a table node.

One row per map: the ROI count, mean, SD and median of T (``statistics.roi_statistics``)
and, when a reference map is given (for example the NLLS map while evaluating the
two-point or network method), the relative mean absolute error against it
(``statistics.relative_mean_absolute_error``).
"""

from __future__ import annotations

import math

import numpy as np
import vtk

from ..statistics import relative_mean_absolute_error, roi_statistics

#: Columns: (name, kind, unit, description). kind is "text", "int" or "float".
COLUMNS = (
    ("Map", "text", "", "fitted quantity"),
    ("Method", "text", "", "mapping method (and model)"),
    ("ROI", "text", "", "region the statistics are taken over"),
    ("Count", "int", "voxels", "ROI voxels with a finite value"),
    ("Excluded", "int", "voxels", "ROI voxels without a value (not fitted or failed)"),
    ("Mean", "float", "ms", "mean of T in the ROI"),
    ("SD", "float", "ms", "standard deviation (n-1) of T in the ROI"),
    ("Median", "float", "ms", "median of T in the ROI"),
    ("Reference", "text", "", "map the RMAE is taken against"),
    ("RMAE", "float", "%", "sum |T - Tref| / sum Tref x 100 over the ROI"),
    ("MAE", "float", "ms", "mean absolute difference from the reference"),
    ("Mean bias", "float", "%", "relative difference of the ROI means"),
)


def statistics_row(map_name: str, method_label: str, values: np.ndarray, roi: np.ndarray,
                   roi_label: str, reference: np.ndarray | None = None,
                   reference_label: str = "") -> dict:
    """One table row (column name -> value) for a map inside ``roi``."""
    stats = roi_statistics(values, roi)
    row = {"Map": map_name, "Method": method_label, "ROI": roi_label,
           "Count": stats["count"], "Excluded": stats["excluded"], "Mean": stats["mean"],
           "SD": stats["sd"], "Median": stats["median"], "Reference": "",
           "RMAE": math.nan, "MAE": math.nan, "Mean bias": math.nan}
    if reference is not None:
        agreement = relative_mean_absolute_error(values, reference, roi)
        row.update({"Reference": reference_label, "RMAE": agreement["rmae_percent"],
                    "MAE": agreement["mae_ms"], "Mean bias": agreement["mean_bias_percent"]})
    return row


def add_statistics_table(scene, rows: list[dict], name: str):
    """A table node with :data:`COLUMNS` and one line per row dict."""
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    arrays = []
    for column, kind, unit, description in COLUMNS:
        array = {"text": vtk.vtkStringArray, "int": vtk.vtkIntArray,
                 "float": vtk.vtkDoubleArray}[kind]()
        array.SetName(column)
        array.SetNumberOfValues(len(rows))
        for index, row in enumerate(rows):
            value = row.get(column)
            if kind == "text":
                array.SetValue(index, str(value or ""))
            elif kind == "int":
                array.SetValue(index, int(value or 0))
            else:
                array.SetValue(index, float("nan") if value is None else float(value))
        arrays.append((array, column, unit, description))
    for array, column, unit, description in arrays:
        table.AddColumn(array)
        if unit:
            table.SetColumnUnitLabel(column, unit)
        table.SetColumnDescription(column, description)
    table.SetUseColumnTitleAsColumnHeader(True)
    table.SetAttribute("QMRI.Output", "statistics")
    return table


def table_rows(table) -> list[dict]:
    """The rows of a statistics table node as dicts (for scripts and tests)."""
    data = table.GetTable()
    names = [data.GetColumn(c).GetName() for c in range(data.GetNumberOfColumns())]
    rows = []
    for r in range(data.GetNumberOfRows()):
        row = {}
        for c, column in enumerate(names):
            value = data.GetValue(r, c)
            row[column] = value.ToString() if data.GetColumn(c).IsA("vtkStringArray") \
                else value.ToDouble()
        rows.append(row)
    return rows
