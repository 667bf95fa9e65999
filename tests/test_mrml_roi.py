"""ROI from a segmentation node, resampled onto the weighted images (real MRML)."""

from __future__ import annotations

import numpy as np
import pytest

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.exports import write_seg_nrrd
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.mrml import roi, volumes

from .mrml_fixtures import oblique_geometry, scene  # noqa: F401


def coarse_and_fine() -> tuple[Geometry, Geometry]:
    """A 2 mm grid and the same field of view at 1 mm (voxel centres shifted by -0.5 mm)."""
    coarse = Geometry(size=(10, 8, 3), spacing=(2.0, 2.0, 5.0), origin=(0.0, 0.0, 0.0),
                      direction=(1, 0, 0, 0, 1, 0, 0, 0, 1))
    fine = Geometry(size=(20, 16, 3), spacing=(1.0, 1.0, 5.0), origin=(-0.5, -0.5, 0.0),
                    direction=(1, 0, 0, 0, 1, 0, 0, 0, 1))
    return coarse, fine


def test_segment_is_resampled_onto_the_reference_volume(scene):  # noqa: F811
    coarse, fine = coarse_and_fine()
    mask = np.zeros(coarse.array_shape, bool)
    mask[1, 2:5, 3:7] = True
    segmentation = roi.segmentation_from_mask(scene, mask, coarse, "drawn")
    reference = volumes.add_volume_node(scene, np.zeros(fine.array_shape, np.float32), fine,
                                        "fine images")

    resampled, description = roi.mask_from_segmentation(scene, segmentation, reference)

    expected = mask.repeat(2, axis=1).repeat(2, axis=2)
    assert resampled.shape == fine.array_shape
    assert np.array_equal(resampled, expected)
    assert "Right lobe ROI" in description and f"{expected.sum()} voxels" in description


def test_same_grid_oblique_roi_is_voxel_exact(scene):  # noqa: F811
    geometry = oblique_geometry((12, 10, 4))
    mask = np.zeros(geometry.array_shape, bool)
    mask[1:3, 2:7, 4:9] = True
    segmentation = roi.segmentation_from_mask(scene, mask, geometry, "oblique ROI")
    reference = volumes.add_volume_node(scene, np.zeros(geometry.array_shape, np.float32),
                                        geometry, "images")
    resampled, _ = roi.mask_from_segmentation(scene, segmentation, reference)
    assert np.array_equal(resampled, mask)


def test_segments_are_chosen_by_name_or_id(scene):  # noqa: F811
    coarse, _ = coarse_and_fine()
    first = np.zeros(coarse.array_shape, bool)
    first[0, 0:2, 0:2] = True
    second = np.zeros(coarse.array_shape, bool)
    second[2, 5:7, 5:9] = True
    node = roi.segmentation_from_mask(scene, first, coarse, "two", segment_name="liver")
    roi.segmentation_from_mask(scene, second, coarse, "two", segment_name="spleen", node=node)
    reference = volumes.add_volume_node(scene, np.zeros(coarse.array_shape, np.float32), coarse,
                                        "images")

    only_spleen, _ = roi.mask_from_segmentation(scene, node, reference, ["spleen"])
    assert np.array_equal(only_spleen, second)
    both, _ = roi.mask_from_segmentation(scene, node, reference)
    assert np.array_equal(both, first | second)
    liver_id = node.GetSegmentation().GetSegmentIdBySegmentName("liver")
    by_id, _ = roi.mask_from_segmentation(scene, node, reference, [liver_id])
    assert np.array_equal(by_id, first)
    with pytest.raises(UserInputError, match="no segment 'kidney'"):
        roi.mask_from_segmentation(scene, node, reference, ["kidney"])


def test_empty_segmentation_and_temporary_nodes(scene):  # noqa: F811
    coarse, _ = coarse_and_fine()
    reference = volumes.add_volume_node(scene, np.zeros(coarse.array_shape, np.float32), coarse,
                                        "images")
    empty = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "empty")
    with pytest.raises(UserInputError, match="has no segment"):
        roi.mask_from_segmentation(scene, empty, reference)
    before = scene.GetNumberOfNodes()
    mask = np.zeros(coarse.array_shape, bool)
    mask[1, 1, 1] = True
    node = roi.segmentation_from_mask(scene, mask, coarse, "one voxel")
    roi.mask_from_segmentation(scene, node, reference)
    labelmaps = scene.GetNodesByClass("vtkMRMLLabelMapVolumeNode")
    assert labelmaps.GetNumberOfItems() == 0, "temporary labelmaps must be removed"
    assert scene.GetNumberOfNodes() > before


def test_roi_file_becomes_a_segmentation_on_the_image_grid(scene, tmp_path):  # noqa: F811
    coarse, fine = coarse_and_fine()
    mask = np.zeros(coarse.array_shape, bool)
    mask[0, 1:3, 2:4] = True
    path = write_seg_nrrd(mask, coarse, tmp_path / "roi.seg.nrrd")
    reference = volumes.add_volume_node(scene, np.zeros(fine.array_shape, np.float32), fine,
                                        "images")
    node = roi.segmentation_from_file(scene, path, reference)
    resampled, _ = roi.mask_from_segmentation(scene, node, reference)
    assert np.array_equal(resampled, mask.repeat(2, axis=1).repeat(2, axis=2))
    assert "roi.seg.nrrd" in node.GetAttribute("QMRI.RoiSource")
