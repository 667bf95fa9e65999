"""A right-lobe liver ROI for relaxometry, derived from the liver segmentation.

The mapping module scores T1rho/T2 in a region of liver parenchyma that a reader would
draw: in the right lobe, away from the liver's edge (partial volume) and away from
vessels and ducts. From a liver mask in canonical orientation (``[z, y, x]``, x toward
the patient's left, :mod:`.data.orientation`) this module keeps, slice by slice:

1. liver voxels that are not vessel-dark: intensity at least ``vessel_fraction`` of the
   median liver intensity of the slice (black-blood vessels and ducts are dark);
2. at least ``margin_mm`` (in plane) from anything outside that parenchyma - the
   phantom's own ROI uses 4 mm (``ROI_EDGE_MARGIN_MM``);
3. on the patient's right of the liver's centroid (the right lobe).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from QMRIMappingLib.phantom import ROI_EDGE_MARGIN_MM

VESSEL_FRACTION = 0.5


def roi_from_liver(liver: np.ndarray, image: np.ndarray, spacing_xyz: tuple[float, ...],
                   margin_mm: float = ROI_EDGE_MARGIN_MM,
                   vessel_fraction: float = VESSEL_FRACTION) -> np.ndarray:
    """Boolean ROI ``[z, y, x]`` inside ``liver`` (see the module docstring)."""
    liver = np.asarray(liver, dtype=bool)
    if liver.ndim == 2:
        liver, image = liver[None], np.asarray(image)[None]
    roi = np.zeros_like(liver)
    if not liver.any():
        return roi
    centre_x = np.nonzero(liver)[2].mean()
    sampling = (float(spacing_xyz[1]), float(spacing_xyz[0]))
    for k in range(liver.shape[0]):
        if not liver[k].any():
            continue
        values = image[k][liver[k]]
        parenchyma = liver[k] & (image[k] >= vessel_fraction * float(np.median(values)))
        if not parenchyma.any():
            continue
        inside = ndimage.distance_transform_edt(parenchyma, sampling=sampling)
        roi[k] = inside >= margin_mm
    columns = np.arange(liver.shape[2])[None, None, :]
    return roi & (columns <= centre_x)
