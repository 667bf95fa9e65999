"""Test data of the evaluation: the held-out phantom cohort and repeated noise draws.

Test subjects use seeds from :data:`~QMRIMappingLib.networks.cohort.TEST_SEED_START`
(900000) on, which no training cohort may use. Repeated noise draws of one subject (for
bias and variance, Epstein et al.) keep its anatomy, tissue values, coil and shim fixed
and add fresh Rician noise of the same σ to its noise-free images.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..mapping_input import MappingInput, WeightedImage
from ..networks.cohort import TEST_SEED_START
from ..phantom import VESSEL_LABELS, PhantomSubject, generate_subject
from ..phantom.signal import add_rician_noise
from ..phantom.tissues import LABEL_IDS

#: Stream tag of the evaluation's own noise draws (kept apart from the phantom's).
_NOISE_STREAM = 4242
#: Width of the vessel-edge band, mm (about two pixels of the 256 matrix).
VESSEL_EDGE_MM = 6.0


def test_subjects(count: int, snr: float, *, slices: int = 4, matrix: int = 256,
                  motion_mm: float = 0.0) -> list[PhantomSubject]:
    """The first ``count`` subjects of the held-out cohort at ``snr`` (shim artifact on)."""
    return [generate_subject(TEST_SEED_START + index, matrix=matrix, n_slices=slices, snr=snr,
                             motion_mm=motion_mm, shim_artifact=True,
                             subject_id=f"test-{index:03d}")
            for index in range(count)]


def noise_draws(subject_index: int, snr: float, draws: int, *, slices: int = 4,
                matrix: int = 256) -> tuple[PhantomSubject, list[MappingInput]]:
    """The noise-free test subject and ``draws`` noisy copies of its images at ``snr``."""
    clean = generate_subject(TEST_SEED_START + subject_index, matrix=matrix, n_slices=slices,
                             snr=float("inf"), shim_artifact=True,
                             subject_id=f"test-{subject_index:03d}")
    shared = next(image for image in clean.images if image.role == "shared")
    sigma = float(shared.data[clean.roi > 0].mean() / snr)
    inputs = []
    for draw in range(draws):
        rng = np.random.default_rng([TEST_SEED_START + subject_index, _NOISE_STREAM, draw])
        images = [WeightedImage(add_rician_noise(image.data.astype(np.float64), sigma, rng),
                                image.time_ms, image.role, image.source, image.geometry,
                                image.reason, dict(image.metadata))
                  for image in clean.images]
        inputs.append(MappingInput(images, "prepared", f"{clean.subject_id} draw {draw}"))
    return clean, inputs


def regions(subject: PhantomSubject) -> dict[str, np.ndarray]:
    """Where maps are scored: the reader's ROI, liver at vessel edges, the whole liver,
    and, beyond the liver, vessel lumen, spleen and kidneys.

    * ``roi``: the right-lobe ROI, 4 mm from vessels and edges (the paper's metric);
    * ``vessel_edges``: liver inside the shim box within 6 mm (in plane) of a vessel or
      duct, where partial volume and spatial pooling matter;
    * ``liver``: all liver parenchyma inside the shim box;
    * ``vessels``: hepatic and portal vein lumen inside the shim box (black blood: about
      4 % of the liver's signal, so no method has much to work with);
    * ``spleen``, ``kidneys``: whole organs (longer T, some outside the shim box).
    """
    liver = (subject.labels == LABEL_IDS["liver"]) & subject.shim_box.astype(bool)
    vessels = np.isin(subject.labels, VESSEL_LABELS)
    spacing = float(subject.geometry.spacing[0])
    near = np.zeros(liver.shape, bool)
    for k in range(liver.shape[0]):
        if vessels[k].any():
            distance = ndimage.distance_transform_edt(~vessels[k]) * spacing
            near[k] = distance <= VESSEL_EDGE_MM
    lumen = np.isin(subject.labels, [LABEL_IDS["hepatic_vein"], LABEL_IDS["portal_vein"]])
    kidneys = np.isin(subject.labels, [LABEL_IDS["kidney_cortex"], LABEL_IDS["kidney_medulla"]])
    return {"roi": subject.roi > 0, "vessel_edges": liver & near, "liver": liver,
            "vessels": lumen & subject.shim_box.astype(bool),
            "spleen": subject.labels == LABEL_IDS["spleen"], "kidneys": kidneys}


def input_arrays(mapping_input: MappingInput, tsl: float, tp: float
                 ) -> list[np.ndarray]:
    """(shared, T1rho-weighted at ``tsl``, T2-weighted at ``tp``) arrays of an input."""
    found = {(image.role, round(image.time_ms, 3)): image.data for image in mapping_input.images}
    return [found[("shared", 0.0)], found[("t1rho", round(tsl, 3))],
            found[("t2", round(tp, 3))]]
