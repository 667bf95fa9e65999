"""Is this image suitable for relaxometry mapping? A decision combining the heads.

The mapping workflow needs an image without motion artefact or excessive noise and a
liver region large enough for an ROI. This module combines the image-quality head's
class probabilities with the liver segmentation (and the ROI derived from it) into a
yes/no recommendation with a one-line reason a user can act on, e.g.::

    not suitable for mapping: motion artefact likely (p = 0.82)
    suitable for mapping: image quality clean (p = 0.94); liver 92.4 cm² (2310 voxels);
    ROI 21.1 cm² (845 voxels)

The thresholds are :class:`RecommendationRules`, in areas (summed over slices) so they
do not depend on the voxel size; the checks are reported in order (quality, liver,
ROI), every failing one in the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Wording of the corrupted quality classes of the bundled family.
QUALITY_WORDS = {"motion": "motion artefact likely", "noise": "image too noisy"}


@dataclass(frozen=True)
class RecommendationRules:
    """``clean_class`` must reach ``min_clean_probability``; the liver segmentation needs
    an in-plane area (summed over slices) of ``min_liver_area_mm2`` and the ROI
    ``min_roi_area_mm2`` (an ROI of 2 x 1 cm is the least a reader would use)."""

    clean_class: str = "clean"
    min_clean_probability: float = 0.5
    min_liver_area_mm2: float = 1500.0
    min_roi_area_mm2: float = 200.0


@dataclass
class Recommendation:
    """The decision, the one-line reason and each check's outcome."""

    suitable: bool
    reason: str
    checks: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"suitable": self.suitable, "reason": self.reason, "checks": dict(self.checks)}


def recommend(quality: Mapping[str, float] | None, liver_voxels: int, roi_voxels: int,
              pixel_area_mm2: float = 1.0, rules: RecommendationRules | None = None
              ) -> Recommendation:
    """Combine quality probabilities (None: no quality head) with liver and ROI sizes
    (voxel counts; ``pixel_area_mm2`` is the in-plane area of one voxel)."""
    rules = rules or RecommendationRules()
    liver_area = liver_voxels * pixel_area_mm2
    roi_area = roi_voxels * pixel_area_mm2
    problems: list[str] = []
    good: list[str] = []
    checks: dict[str, str] = {}
    if quality:
        if rules.clean_class not in quality:
            raise ValueError(f"quality probabilities have no class {rules.clean_class!r}: "
                             f"{sorted(quality)}")
        p_clean = float(quality[rules.clean_class])
        if p_clean >= rules.min_clean_probability:
            text = f"image quality {rules.clean_class} (p = {p_clean:.2f})"
            good.append(text)
            checks["quality"] = "pass: " + text
        else:
            worst = max((c for c in quality if c != rules.clean_class),
                        key=lambda c: quality[c])
            p_worst = float(quality[worst])
            if p_worst >= rules.min_clean_probability:
                text = f"{QUALITY_WORDS.get(worst, f'image quality {worst}')} (p = {p_worst:.2f})"
            else:
                text = (f"image quality uncertain ({rules.clean_class} p = {p_clean:.2f}, "
                        f"{worst} p = {p_worst:.2f})")
            problems.append(text)
            checks["quality"] = "fail: " + text
    else:
        checks["quality"] = "not checked: no image-quality head"
    if liver_area < rules.min_liver_area_mm2:
        text = (f"no liver found ({_area(liver_area, liver_voxels)} segmented, at least "
                f"{rules.min_liver_area_mm2 / 100:.1f} cm² needed)")
        problems.append(text)
        checks["liver"] = "fail: " + text
    else:
        text = f"liver {_area(liver_area, liver_voxels)}"
        good.append(text)
        checks["liver"] = "pass: " + text
        if roi_area < rules.min_roi_area_mm2:
            text = (f"liver ROI too small ({_area(roi_area, roi_voxels)}, at least "
                    f"{rules.min_roi_area_mm2 / 100:.1f} cm² needed)")
            problems.append(text)
            checks["roi"] = "fail: " + text
        else:
            text = f"ROI {_area(roi_area, roi_voxels)}"
            good.append(text)
            checks["roi"] = "pass: " + text
    if problems:
        return Recommendation(False, "not suitable for mapping: " + "; ".join(problems), checks)
    return Recommendation(True, "suitable for mapping: " + "; ".join(good), checks)


def _area(area_mm2: float, voxels: int) -> str:
    return f"{area_mm2 / 100:.1f} cm² ({voxels} voxels)"
