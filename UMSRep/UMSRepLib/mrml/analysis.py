"""Run a model bundle on a volume node and put every output into the scene.

:func:`analyse_volume_node` reads the volume's voxels and grid, runs
:func:`UMSRepLib.inference.analyse_volume` and writes:

* a segmentation node with a ``Liver`` segment (the segmentation head) and a
  ``Right lobe ROI`` segment (the mapping ROI derived from it);
* a table node of class probabilities, one row per task and class (image quality,
  tissue state, ...), with the predicted class marked, and the recommendation in the
  node's attributes;
* a scalar volume of the Grad-CAM heat map on the volume's grid, styled with a
  transparent-to-hot colour table and shown as foreground overlay in the slice views;
* a text node with the recommendation ("suitable for mapping: ..." or "not suitable
  for mapping: <reason>").

Output nodes passed in are reused (a second run replaces their content), so the panel
does not pile up nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import vtk

from QMRIMappingLib.mrml import volumes
from QMRIMappingLib.mrml.roi import segment_ids, segmentation_from_mask

from ..inference import VolumeAnalysis, analyse_volume
from ..model_files import ModelBundle
from .display import DEFAULT_OPACITY, heat_color_node, show_overlay, style_heatmap

LIVER_SEGMENT = "Liver"
ROI_SEGMENT = "Right lobe ROI"
LIVER_COLOR = (0.85, 0.45, 0.35)
ROI_COLOR = (0.95, 0.85, 0.2)
SUITABLE_ATTRIBUTE = "UMSRep.Suitable"
REASON_ATTRIBUTE = "UMSRep.Recommendation"


@dataclass
class AnalysisNodes:
    """The nodes an analysis wrote and the analysis itself."""

    volume: object
    segmentation: object
    table: object
    heatmap: object | None
    text: object
    analysis: VolumeAnalysis
    model_name: str

    @property
    def recommendation(self) -> str:
        return self.analysis.recommendation.reason


def analyse_volume_node(scene, volume_node, bundle: ModelBundle, *, segmentation_node=None,
                        table_node=None, heatmap_node=None, text_node=None, show: bool = True,
                        opacity: float = DEFAULT_OPACITY, heatmap_task: str | None = None,
                        logic=None) -> AnalysisNodes:
    """Analyse ``volume_node`` with ``bundle``; see the module docstring."""
    geometry = volumes.geometry_from_node(volume_node)
    array = volumes.array_from_node(volume_node).astype(np.float32)
    result = analyse_volume(bundle, array, geometry.spacing, geometry.direction_matrix,
                            heatmap_task=heatmap_task)
    name = volume_node.GetName()
    model_name = str(bundle.card.get("name", "UMSRep"))
    segmentation = _segmentation(scene, result, geometry, name, segmentation_node, logic)
    table = _probability_table(scene, result, f"{name} UMSRep probabilities", table_node)
    heatmap = None
    if result.heatmap is not None:
        heatmap = _heatmap(scene, result.heatmap.astype(np.float32), geometry,
                           f"{name} Grad-CAM {result.heatmap_task}:{result.heatmap_class}",
                           heatmap_node)
        if show:
            show_overlay(scene, volume_node, heatmap, opacity)
    text = text_node or scene.AddNewNodeByClass("vtkMRMLTextNode", f"{name} UMSRep recommendation")
    text.SetText(result.recommendation.reason)
    for node in (segmentation, table, text):
        node.SetAttribute(SUITABLE_ATTRIBUTE, str(result.recommendation.suitable).lower())
        node.SetAttribute(REASON_ATTRIBUTE, result.recommendation.reason)
        node.SetAttribute("UMSRep.Model", model_name)
        node.SetAttribute("UMSRep.SourceVolume", volume_node.GetID())
    return AnalysisNodes(volume=volume_node, segmentation=segmentation, table=table,
                         heatmap=heatmap, text=text, analysis=result, model_name=model_name)


def _segmentation(scene, result: VolumeAnalysis, geometry, name: str, node, logic):
    if node is not None:
        node.GetSegmentation().RemoveAllSegments()
    for mask, segment, color in ((result.liver_mask, LIVER_SEGMENT, LIVER_COLOR),
                                 (result.roi_mask, ROI_SEGMENT, ROI_COLOR)):
        if mask is None or not mask.any():
            continue
        before = set(segment_ids(node)) if node is not None else set()
        node = segmentation_from_mask(scene, mask, geometry, f"{name} UMSRep segmentation",
                                      segment, logic, node=node)
        for segment_id in segment_ids(node):
            if segment_id not in before:
                node.GetSegmentation().GetSegment(segment_id).SetColor(*color)
    if node is None:  # nothing found: an empty node still says so in the scene
        node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", f"{name} UMSRep segmentation")
        node.CreateDefaultDisplayNodes()
    return node


def _probability_table(scene, result: VolumeAnalysis, name: str, node):
    table = node or scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    table.RemoveAllColumns()
    rows = []
    for task, probs in result.class_probabilities.items():
        best = max(probs, key=probs.get)
        rows += [(task, cls, float(p), int(cls == best)) for cls, p in probs.items()]
    columns = (("Task", vtk.vtkStringArray, "task (classification head)"),
               ("Class", vtk.vtkStringArray, "class of the task"),
               ("Probability", vtk.vtkDoubleArray, "softmax probability, averaged over the "
                "slices weighted by their segmented liver area"),
               ("Predicted", vtk.vtkIntArray, "1 for the most probable class"))
    for index, (column, kind, description) in enumerate(columns):
        array = kind()
        array.SetName(column)
        array.SetNumberOfValues(len(rows))
        for row, values in enumerate(rows):
            array.SetValue(row, values[index])
        table.AddColumn(array)
        table.SetColumnDescription(column, description)
    table.SetUseColumnTitleAsColumnHeader(True)
    return table


def _heatmap(scene, heatmap: np.ndarray, geometry, name: str, node):
    if node is None:
        node = volumes.add_volume_node(scene, heatmap, geometry, name,
                                       color_node=heat_color_node(scene))
    else:
        volumes.set_node_array(node, heatmap, geometry)
        node.SetName(name)
    style_heatmap(scene, node)
    node.SetAttribute("UMSRep.Output", "heatmap")
    return node


def table_rows(table) -> list[dict]:
    """The rows of a probability table as dicts (for scripts and tests)."""
    data = table.GetTable()
    names = [data.GetColumn(c).GetName() for c in range(data.GetNumberOfColumns())]
    return [{column: (data.GetValue(r, c).ToString() if data.GetColumn(c).IsA("vtkStringArray")
                      else data.GetValue(r, c).ToDouble()) for c, column in enumerate(names)}
            for r in range(data.GetNumberOfRows())]
