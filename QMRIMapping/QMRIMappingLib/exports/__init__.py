"""Exports of maps and ROIs to files other tools read, without Slicer.

* :mod:`.images`          maps as NRRD or NIfTI on the input grid
* :mod:`.dicom_source`    the source DICOM series a DICOM object must reference
* :mod:`.parametric_map`  maps as DICOM Parametric Map objects (highdicom), values in ms
* :mod:`.segmentation`    the ROI as a Slicer ``.seg.nrrd`` (slicerio) and as DICOM SEG
"""

from .images import write_map_image
from .parametric_map import parametric_map, write_parametric_map
from .segmentation import dicom_segmentation, write_dicom_seg, write_seg_nrrd

__all__ = ["dicom_segmentation", "parametric_map", "write_dicom_seg", "write_map_image",
           "write_parametric_map", "write_seg_nrrd"]
