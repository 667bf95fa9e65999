"""Segmentation nodes <-> boolean ROI masks on the grid of the weighted images.

The ROI (a right-lobe liver region drawn with the Segment Editor, or loaded from a file)
is a segmentation node whose own geometry rarely equals the image grid: the binary
labelmap is cropped to the segment extent and may have been drawn on another series.
:func:`mask_from_segmentation` lets Slicer's segmentations logic resample the chosen
segments onto the reference volume (``ExportSegmentsToLabelmapNode``), exactly as the
Segment Statistics module does, and hands back a ``[k, j, i]`` bool array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import slicer
import vtk

from ..errors import UserInputError
from ..geometry import Geometry
from ..roi import read_roi
from . import volumes

#: Colour of the ROI segment (RGB 0..1): a yellow that stands out on grey-scale and on maps.
ROI_COLOR = (0.95, 0.85, 0.2)
DEFAULT_SEGMENT_NAME = "Right lobe ROI"


def segmentations_logic(scene, logic=None):
    """The given segmentations logic, or a new one bound to ``scene``."""
    if logic is not None:
        return logic
    logic = slicer.vtkSlicerSegmentationsModuleLogic()
    logic.SetMRMLScene(scene)
    return logic


def segment_ids(segmentation_node) -> list[str]:
    """IDs of all segments of a segmentation node, in order."""
    ids = vtk.vtkStringArray()
    segmentation_node.GetSegmentation().GetSegmentIDs(ids)
    return [ids.GetValue(i) for i in range(ids.GetNumberOfValues())]


def resolve_segments(segmentation_node, wanted: list[str] | None) -> list[str]:
    """Segment IDs for ``wanted`` IDs or names (all segments when None)."""
    available = segment_ids(segmentation_node)
    if not available:
        raise UserInputError(f"segmentation '{segmentation_node.GetName()}' has no segment; "
                             "draw the ROI with the Segment Editor first")
    if not wanted:
        return available
    segmentation = segmentation_node.GetSegmentation()
    chosen = []
    for item in wanted:
        if item in available:
            chosen.append(item)
            continue
        by_name = segmentation.GetSegmentIdBySegmentName(item)
        if not by_name:
            names = [segmentation.GetSegment(i).GetName() for i in available]
            raise UserInputError(f"segmentation '{segmentation_node.GetName()}' has no segment "
                                 f"'{item}'; it has {', '.join(names)}")
        chosen.append(by_name)
    return chosen


def mask_from_segmentation(scene, segmentation_node, reference_node,
                           segments: list[str] | None = None, logic=None
                           ) -> tuple[np.ndarray, str]:
    """Union of ``segments`` (IDs or names; all by default) as a bool mask on the grid of
    ``reference_node``, and a one-line description of what was used."""
    chosen = resolve_segments(segmentation_node, segments)
    logic = segmentations_logic(scene, logic)
    ids = vtk.vtkStringArray()
    for segment_id in chosen:
        ids.InsertNextValue(segment_id)
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "QMRI ROI (temporary)")
    try:
        if not logic.ExportSegmentsToLabelmapNode(segmentation_node, ids, labelmap,
                                                  reference_node):
            raise UserInputError(f"segmentation '{segmentation_node.GetName()}' could not be "
                                 f"resampled onto '{reference_node.GetName()}'")
        mask = volumes.array_from_node(labelmap) != 0
        problem = volumes.geometry_from_node(reference_node).mismatch(
            volumes.geometry_from_node(labelmap))
        if problem:
            raise UserInputError(f"ROI resampling gave another grid ({problem})")
    finally:
        _remove_with_display(scene, labelmap)
    names = [segmentation_node.GetSegmentation().GetSegment(i).GetName() for i in chosen]
    if not mask.any():
        raise UserInputError(f"ROI {', '.join(names)} of '{segmentation_node.GetName()}' covers "
                             f"no voxel of '{reference_node.GetName()}'")
    return mask, (f"segmentation '{segmentation_node.GetName()}', segment(s) "
                  f"{', '.join(names)}, {int(mask.sum())} voxels")


def segmentation_from_mask(scene, mask: np.ndarray, geometry: Geometry, name: str,
                           segment_name: str = DEFAULT_SEGMENT_NAME, logic=None,
                           node=None):
    """A segmentation node (new, or ``node``) with one segment from a ``[k, j, i]`` mask."""
    logic = segmentations_logic(scene, logic)
    if node is None:
        node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
        node.CreateDefaultDisplayNodes()
    labelmap = volumes.add_volume_node(scene, np.asarray(mask, dtype=np.uint8), geometry,
                                       "QMRI ROI import (temporary)",
                                       "vtkMRMLLabelMapVolumeNode", display=False)
    try:
        before = set(segment_ids(node))
        node.SetReferenceImageGeometryParameterFromVolumeNode(labelmap)
        if not logic.ImportLabelmapToSegmentationNode(labelmap, node):
            raise UserInputError(f"ROI '{name}' could not be imported into a segmentation")
        for segment_id in segment_ids(node):
            if segment_id not in before:
                segment = node.GetSegmentation().GetSegment(segment_id)
                segment.SetName(segment_name)
                segment.SetColor(*ROI_COLOR)
    finally:
        _remove_with_display(scene, labelmap)
    return node


def segmentation_from_file(scene, path: str | Path, reference_node, name: str | None = None,
                           segment: str | None = None, label: int | None = None, logic=None):
    """Load an ROI file (labelmap or .seg.nrrd, any grid) as a segmentation on the image grid."""
    geometry = volumes.geometry_from_node(reference_node)
    mask, description = read_roi(path, geometry, segment=segment, label=label)
    node = segmentation_from_mask(scene, mask, geometry, name or f"ROI {Path(path).name}",
                                  segment or DEFAULT_SEGMENT_NAME, logic)
    node.SetAttribute("QMRI.RoiSource", description)
    return node


def _remove_with_display(scene, node) -> None:
    for index in range(node.GetNumberOfDisplayNodes()):
        display = node.GetNthDisplayNode(index)
        if display is not None:
            scene.RemoveNode(display)
    storage = node.GetStorageNode()
    if storage is not None:
        scene.RemoveNode(storage)
    scene.RemoveNode(node)
