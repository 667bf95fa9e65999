"""Tissue values of the digital liver phantom at 3 T, the labels that use them, and where
each number comes from.

Each tissue has a range for its subject-level T1rho and T2 (ms) and apparent proton
density; a subject draws one value per tissue uniformly from the range, and the voxels
of that tissue vary smoothly around it by the coefficient of variation ``cv`` (see
``properties.py``). The ranges are meant to be plausible, not authoritative.

Sources
-------
* **T2 at 3 T** of liver, spleen, pancreas, renal cortex and medulla, paravertebral
  muscle, vertebral marrow and subcutaneous fat: de Bazelaire CMJ, Duhamel GD, Rofsky NM,
  Alsop DC. "MR imaging relaxation times of abdominal and pelvic tissues measured in vivo
  at 3.0 T: preliminary results." Radiology 2004;230:652-659 (mean +/- SD, ms: liver
  34 +/- 4, spleen 61 +/- 9, pancreas 43 +/- 7, renal cortex 76 +/- 7, renal medulla
  81 +/- 8, paravertebral muscle 29 +/- 4, L4 marrow 49 +/- 4, subcutaneous fat 68 +/- 4).
  The ranges below are roughly mean +/- 1 SD.
* **Liver T1rho at 3 T** (spin-lock about 500 Hz, black-blood): Wang YXJ, Deng M, Lin J,
  Kwok AWL, Liu EKW, Chen W. "Age- and gender-associated liver physiological T1rho
  dynamics demonstrated with a clinically applicable single-breathhold acquisition."
  SLAS Technol 2018;23:179-187 (healthy range about 35-52 ms); Zhao F, Deng M, Yuan J,
  et al. Korean J Radiol 2012;13:736-742 (same group, 500 Hz). Singh A, et al.
  J Transl Med 2015;13:292 report 51 +/- 3 ms at 1.5 T.
* **Spleen T1rho**: the same group reports spleen T1rho about twice liver T1rho
  (roughly 77-93 ms, fast-spin-echo readout; Fortschr Roentgenstr 2024,
  doi:10.1055/a-2428-7409). Taken as approximate for this gradient-echo protocol.
* **Arterial blood T2 at 3 T**: Stanisz GJ, et al. Magn Reson Med 2005;54:507-512
  (about 275 ms). Venous blood T2 depends on oxygenation (lower, about 60-150 ms);
  approximate.
* **Everything marked ``approximate=True``** (all other T1rho values, CSF, bile, stomach,
  bowel) has no solid human 3 T reference that we know of; those T1rho values are set
  at roughly 1.1-1.3 x T2, the usual ordering at spin-lock amplitudes of a few hundred Hz.
* **Apparent proton density** is the signal of the zero-preparation image relative to
  liver, including the T1 weighting of the gradient-echo readout, fat suppression (fat
  and marrow low) and black-blood preparation (flowing blood, and, as in the paper's
  images, the bile ducts about 3-5 % of liver). These are assumed values, not
  measurements.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tissue:
    """Subject-level value ranges of one tissue and how much it varies within an organ."""

    name: str
    t1rho_ms: tuple[float, float]
    t2_ms: tuple[float, float]
    proton_density: tuple[float, float]
    cv: float
    approximate: bool
    source: str


TISSUES: dict[str, Tissue] = {t.name: t for t in (
    Tissue("liver", (39.0, 50.0), (29.0, 38.0), (1.0, 1.0), 0.04, False,
           "T1rho: Wang et al. SLAS Technol 2018 (3 T, 35-52 ms); "
           "T2: de Bazelaire et al. Radiology 2004 (34 +/- 4 ms)"),
    Tissue("spleen", (70.0, 95.0), (52.0, 70.0), (0.80, 0.90), 0.04, True,
           "T1rho: about 2 x liver (Fortschr Roentgenstr 2024, approximate); "
           "T2: de Bazelaire 2004 (61 +/- 9 ms)"),
    Tissue("kidney_cortex", (80.0, 100.0), (69.0, 83.0), (0.85, 0.95), 0.03, True,
           "T1rho: assumed ~1.15 x T2 (approximate); T2: de Bazelaire 2004 (76 +/- 7 ms)"),
    Tissue("kidney_medulla", (88.0, 110.0), (73.0, 89.0), (0.75, 0.85), 0.03, True,
           "T1rho: assumed ~1.2 x T2 (approximate); T2: de Bazelaire 2004 (81 +/- 8 ms)"),
    Tissue("pancreas", (45.0, 60.0), (36.0, 50.0), (0.95, 1.05), 0.04, True,
           "T1rho: assumed ~1.2 x T2 (approximate); T2: de Bazelaire 2004 (43 +/- 7 ms)"),
    Tissue("muscle", (30.0, 42.0), (25.0, 33.0), (0.55, 0.65), 0.03, True,
           "T1rho: assumed ~1.2 x T2 (approximate); "
           "T2: de Bazelaire 2004, paravertebral muscle (29 +/- 4 ms)"),
    Tissue("fat", (68.0, 85.0), (64.0, 72.0), (0.20, 0.30), 0.03, True,
           "T1rho: assumed ~1.1 x T2 (approximate); "
           "T2: de Bazelaire 2004, subcutaneous fat (68 +/- 4 ms); PD low: fat suppressed"),
    Tissue("bone_marrow", (52.0, 65.0), (45.0, 53.0), (0.35, 0.45), 0.03, True,
           "T1rho: assumed ~1.2 x T2 (approximate); T2: de Bazelaire 2004, L4 marrow "
           "(49 +/- 4 ms); PD low: fatty marrow suppressed"),
    Tissue("csf", (1000.0, 1800.0), (900.0, 1600.0), (0.45, 0.55), 0.02, True,
           "approximate: free water, T2 of order 1-2 s at 3 T; PD reduced by long T1"),
    Tissue("venous_blood", (90.0, 160.0), (70.0, 130.0), (0.03, 0.05), 0.03, True,
           "approximate: oxygenation-dependent venous T2 at 3 T; PD 3-5 % (black blood)"),
    Tissue("arterial_blood", (220.0, 320.0), (200.0, 280.0), (0.03, 0.05), 0.03, True,
           "T2: Stanisz et al. MRM 2005 (275 ms); T1rho approximate; PD 3-5 % (black blood)"),
    Tissue("bile", (400.0, 700.0), (300.0, 600.0), (0.03, 0.05), 0.03, True,
           "approximate: fluid with long T2; dark (3-5 % of liver) as the paper's "
           "black-blood images show the ducts"),
    Tissue("stomach", (55.0, 75.0), (42.0, 60.0), (0.45, 0.55), 0.04, True,
           "approximate placeholder: gastric wall and contents"),
    Tissue("bowel", (55.0, 75.0), (42.0, 60.0), (0.55, 0.65), 0.04, True,
           "approximate placeholder: bowel wall and contents"),
)}

#: Label value -> (label name, tissue name). Label 0 is air outside the body.
LABELS: dict[int, tuple[str, str | None]] = {
    0: ("background", None),
    1: ("subcutaneous_fat", "fat"),
    2: ("abdominal_wall_muscle", "muscle"),
    3: ("visceral_fat", "fat"),
    4: ("liver", "liver"),
    5: ("hepatic_vein", "venous_blood"),
    6: ("portal_vein", "venous_blood"),
    7: ("bile_duct", "bile"),
    8: ("spleen", "spleen"),
    9: ("kidney_cortex", "kidney_cortex"),
    10: ("kidney_medulla", "kidney_medulla"),
    11: ("pancreas", "pancreas"),
    12: ("stomach", "stomach"),
    13: ("bowel", "bowel"),
    14: ("aorta", "arterial_blood"),
    15: ("inferior_vena_cava", "venous_blood"),
    16: ("vertebra", "bone_marrow"),
    17: ("spinal_canal", "csf"),
    18: ("paraspinal_muscle", "muscle"),
    19: ("psoas_muscle", "muscle"),
    20: ("rib", "bone_marrow"),
}

#: Label value by name, for code that paints or reads the label map.
LABEL_IDS: dict[str, int] = {name: value for value, (name, _) in LABELS.items()}

#: Labels of the dark tubular structures that the liver ROI keeps away from.
VESSEL_LABELS: tuple[int, ...] = tuple(
    LABEL_IDS[name] for name in ("hepatic_vein", "portal_vein", "bile_duct",
                                 "inferior_vena_cava"))

#: Ranges that healthy-liver values of the phantom always stay within (ms), used by the
#: tests: liver T1rho 35-60 ms and T2 25-45 ms as reported in the liver T1rho literature.
LIVER_LITERATURE_RANGE_MS = {"T1rho": (35.0, 60.0), "T2": (25.0, 45.0)}


def label_names() -> dict[int, str]:
    """Label value -> label name, a fresh dict."""
    return {value: name for value, (name, _) in LABELS.items()}


def tissue_table() -> list[dict]:
    """The table as plain data, for ``phantom.json`` and reports."""
    return [{
        "tissue": t.name,
        "t1rho_ms_range": list(t.t1rho_ms),
        "t2_ms_range": list(t.t2_ms),
        "proton_density_range": list(t.proton_density),
        "within_organ_cv": t.cv,
        "approximate": t.approximate,
        "source": t.source,
    } for t in TISSUES.values()]
