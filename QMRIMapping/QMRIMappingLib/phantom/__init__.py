"""Digital liver phantom for the T1rho/T2 protocol of Huang et al.

``generate_subject(seed)`` simulates one subject: an axial slab of the upper abdomen
with a liver (right and left lobes, hepatic and portal veins, bile ducts), spleen,
kidneys, spine and body wall; true T1rho and T2 maps at 3 T; and the weighted images of
the protocol (one shared zero-preparation image, spin-lock and T2-prepared images) with
coil shading, Rician noise, an optional B0 artifact outside the shim box and optional
motion. ``write_subject`` saves it as DICOM or NIfTI plus ground truth.
"""

from .roi import ROI_EDGE_MARGIN_MM, ROI_VESSEL_MARGIN_MM
from .subject import PhantomSubject, generate_subject
from .tissues import LABEL_IDS, LABELS, TISSUES, VESSEL_LABELS
from .writer import write_subject

__all__ = [
    "LABELS",
    "LABEL_IDS",
    "ROI_EDGE_MARGIN_MM",
    "ROI_VESSEL_MARGIN_MM",
    "TISSUES",
    "VESSEL_LABELS",
    "PhantomSubject",
    "generate_subject",
    "write_subject",
]
