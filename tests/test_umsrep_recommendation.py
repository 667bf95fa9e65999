"""The suitability recommendation and the ROI derived from the liver segmentation."""

from __future__ import annotations

import numpy as np
import pytest

from UMSRepLib.recommendation import RecommendationRules, recommend
from UMSRepLib.roi import roi_from_liver

CLEAN = {"clean": 0.9, "motion": 0.06, "noise": 0.04}


def test_clean_image_with_liver_and_roi_is_suitable():
    result = recommend(CLEAN, liver_voxels=500, roi_voxels=100, pixel_area_mm2=9.0)
    assert result.suitable
    assert result.reason.startswith("suitable for mapping")
    assert "clean (p = 0.90)" in result.reason and "45.0 cm²" in result.reason
    assert all(v.startswith("pass") for v in result.checks.values())


@pytest.mark.parametrize("quality, words", [
    ({"clean": 0.1, "motion": 0.8, "noise": 0.1}, "motion artefact likely (p = 0.80)"),
    ({"clean": 0.2, "motion": 0.1, "noise": 0.7}, "image too noisy (p = 0.70)"),
    ({"clean": 0.4, "motion": 0.35, "noise": 0.25}, "image quality uncertain"),
])
def test_bad_quality_is_named_in_the_reason(quality, words):
    result = recommend(quality, liver_voxels=500, roi_voxels=100, pixel_area_mm2=9.0)
    assert not result.suitable and words in result.reason
    assert result.checks["quality"].startswith("fail")
    assert "\n" not in result.reason


def test_missing_liver_and_small_roi_fail_with_reasons():
    no_liver = recommend(CLEAN, liver_voxels=10, roi_voxels=0, pixel_area_mm2=9.0)
    assert not no_liver.suitable and "no liver found" in no_liver.reason
    small_roi = recommend(CLEAN, liver_voxels=500, roi_voxels=5, pixel_area_mm2=9.0)
    assert not small_roi.suitable and "ROI too small" in small_roi.reason
    both = recommend({"clean": 0.1, "motion": 0.9, "noise": 0.0}, 10, 0, 9.0)
    assert "motion" in both.reason and "no liver" in both.reason


def test_thresholds_are_rules_and_areas_not_voxels():
    rules = RecommendationRules(min_clean_probability=0.95)
    assert not recommend(CLEAN, 500, 100, 9.0, rules).suitable
    # the same anatomy at half the voxel size has four times the voxels: same decision
    coarse = recommend(CLEAN, 170, 25, 9.0)
    fine = recommend(CLEAN, 680, 100, 2.25)
    assert coarse.suitable == fine.suitable
    assert recommend(None, 500, 100, 9.0).checks["quality"].startswith("not checked")


def test_roi_is_inside_the_liver_away_from_edges_vessels_and_on_the_right():
    liver = np.zeros((1, 60, 60), bool)
    liver[0, 10:50, 5:55] = True
    image = np.where(liver, 1.0, 0.1)
    image[0, 28:32, 10:20] = 0.05  # a dark vessel inside the liver
    roi = roi_from_liver(liver, image, (2.0, 2.0, 5.0), margin_mm=4.0)
    assert roi.any() and not (roi & ~liver).any()
    rows, cols = np.nonzero(roi[0])
    # >= 4 mm (2 px) between voxel centres and the nearest voxel outside, as the phantom
    assert rows.min() >= 11 and rows.max() <= 48
    assert cols.max() <= 30  # patient's right of the liver's centroid (column 29.5)
    assert not roi[0, 27:33, 9:21].any()  # < 4 mm from the vessel
    assert roi[0, 26, 12] and roi[0, 33, 12]  # exactly 4 mm away is kept
    assert not roi_from_liver(np.zeros_like(liver), image, (2.0, 2.0, 5.0)).any()
