"""The right-lobe liver ROI used to score maps, as a reader would draw it.

It keeps liver parenchyma of the right lobe inside the shim box, away from vessels,
ducts and the IVC by ``ROI_VESSEL_MARGIN_MM`` and away from the liver's edge and the
box's edge by ``ROI_EDGE_MARGIN_MM``, so partial volume and the shim transition do not
leak into the statistics. Distances are measured in plane: slices are 8 mm thick and
each one is read on its own.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .grid import PhantomGrid
from .tissues import LABEL_IDS, VESSEL_LABELS

ROI_VESSEL_MARGIN_MM = 4.0
ROI_EDGE_MARGIN_MM = 4.0


def in_plane_distance(mask: np.ndarray, grid: PhantomGrid) -> np.ndarray:
    """Distance (mm) from each voxel to the nearest ``True`` voxel in its own slice."""
    out = np.empty(mask.shape, dtype=np.float64)
    sampling = (grid.pixel_mm, grid.pixel_mm)
    for k in range(mask.shape[0]):
        if mask[k].any():
            out[k] = ndimage.distance_transform_edt(~mask[k], sampling=sampling)
        else:
            out[k] = np.inf
    return out


def liver_roi(labels: np.ndarray, right_lobe: np.ndarray, shim_box: np.ndarray,
              grid: PhantomGrid) -> np.ndarray:
    """ROI mask (uint8 0/1, ``[z, y, x]``)."""
    liver = labels == LABEL_IDS["liver"]
    vessels = np.isin(labels, VESSEL_LABELS)
    other = ~liver & ~vessels
    roi = (right_lobe & liver & shim_box
           & (in_plane_distance(vessels, grid) >= ROI_VESSEL_MARGIN_MM)
           & (in_plane_distance(other, grid) >= ROI_EDGE_MARGIN_MM)
           & (in_plane_distance(~shim_box, grid) >= ROI_EDGE_MARGIN_MM))
    return roi.astype(np.uint8)
