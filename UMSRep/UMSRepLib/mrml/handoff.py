"""The seam between UMSRep and QMRIMapping: the automatic liver ROI.

Contract, in both directions (documented here and in both module scripts):

* **QMRIMapping -> UMSRep.** ``QMRIMappingLogic.automaticRoi`` calls
  ``UMSRepLogic.createLiverRoi(volumeNode, segmentationNode=None)``, which returns a
  ``vtkMRMLSegmentationNode`` holding exactly one segment, named ``"Right lobe ROI"``
  (QMRIMapping's default ROI segment name), on ``volumeNode``'s grid - into
  ``segmentationNode`` when one is given (its previous segments are replaced).
* **UMSRep -> QMRIMapping.** The "Use as ROI in QMRIMapping" button builds the same node
  from the last analysis and sets it as QMRIMapping's ``roiSegmentation`` parameter.

The node carries attributes saying where it came from, so a saved scene still tells:
``UMSRep.SourceVolume`` (volume node ID), ``UMSRep.Model`` (model name) and
``QMRI.RoiSource`` (a one-line description, the attribute QMRIMapping already uses for
ROI files). Only the ROI segment is in the node because QMRIMapping takes the union of
all segments of the ROI node by default.
"""

from __future__ import annotations

import numpy as np

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.mrml.roi import DEFAULT_SEGMENT_NAME, segment_ids, segmentation_from_mask
from QMRIMappingLib.mrml.volumes import geometry_from_node

ROI_NODE_SUFFIX = "liver ROI (UMSRep)"
SOURCE_VOLUME_ATTRIBUTE = "UMSRep.SourceVolume"
MODEL_ATTRIBUTE = "UMSRep.Model"
ROI_SOURCE_ATTRIBUTE = "QMRI.RoiSource"


def mapping_roi_node(scene, volume_node, roi_mask: np.ndarray, model_name: str,
                     segmentation_node=None, logic=None):
    """A segmentation node holding only the mapping ROI (see the module docstring)."""
    roi_mask = np.asarray(roi_mask, dtype=bool)
    if not roi_mask.any():
        raise UserInputError(f"no liver ROI could be derived on '{volume_node.GetName()}'; "
                             "draw the ROI by hand")
    if segmentation_node is not None:
        segmentation_node.GetSegmentation().RemoveAllSegments()
    geometry = geometry_from_node(volume_node)
    node = segmentation_from_mask(scene, roi_mask, geometry,
                                  f"{volume_node.GetName()} {ROI_NODE_SUFFIX}",
                                  DEFAULT_SEGMENT_NAME, logic, node=segmentation_node)
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    node.SetAttribute(SOURCE_VOLUME_ATTRIBUTE, volume_node.GetID())
    node.SetAttribute(MODEL_ATTRIBUTE, model_name)
    node.SetAttribute(ROI_SOURCE_ATTRIBUTE,
                      f"UMSRep model {model_name}: right-lobe ROI from the liver segmentation "
                      f"of '{volume_node.GetName()}', {int(roi_mask.sum())} voxels")
    if len(segment_ids(node)) != 1:
        raise RuntimeError("the mapping ROI node must hold exactly one segment")
    return node
