"""Volume nodes from arrays and back, with exact IJK->RAS geometry (real MRML, slicer-core).

The conversion is checked three ways: the node's matrix against the core grid, a voxel's
RAS position against its LPS position (x and y flip, z stays), and a volume written by
Slicer's own NRRD storage node read back by SimpleITK (an independent LPS reader).
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.geometry import Geometry
from QMRIMappingLib.mrml import volumes

from .mrml_fixtures import oblique_geometry, scene  # noqa: F401


def test_node_from_array_keeps_oblique_geometry_and_values(scene):  # noqa: F811
    geometry = oblique_geometry()
    array = np.random.default_rng(0).random(geometry.array_shape).astype(np.float32)
    node = volumes.add_volume_node(scene, array, geometry, "oblique")

    assert np.allclose(volumes.node_ijk_to_ras(node), geometry.ijk_to_ras())
    assert geometry.mismatch(volumes.geometry_from_node(node)) is None
    assert np.array_equal(volumes.array_from_node(node), array)
    assert node.GetImageData().GetDimensions() == geometry.size


def test_ras_is_lps_with_x_and_y_flipped(scene):  # noqa: F811
    geometry = oblique_geometry()
    node = volumes.add_volume_node(scene, np.zeros(geometry.array_shape, np.float32), geometry,
                                   "flip")
    ijk = np.array([3.0, 2.0, 1.0, 1.0])
    ras = volumes.node_ijk_to_ras(node) @ ijk
    lps = geometry.ijk_to_lps() @ ijk
    assert np.allclose(ras[:3], [-lps[0], -lps[1], lps[2]])


def test_slicer_writer_and_simpleitk_agree_on_lps(scene, tmp_path):  # noqa: F811
    import slicer

    geometry = oblique_geometry()
    array = np.arange(np.prod(geometry.array_shape), dtype=np.float32).reshape(
        geometry.array_shape)
    node = volumes.add_volume_node(scene, array, geometry, "written by Slicer")
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(tmp_path / "volume.nrrd"))
    assert storage.WriteData(node)

    image = sitk.ReadImage(str(tmp_path / "volume.nrrd"))
    assert geometry.mismatch(Geometry.from_sitk(image)) is None
    assert np.array_equal(sitk.GetArrayFromImage(image), array)
    assert isinstance(node, slicer.vtkMRMLScalarVolumeNode)


def test_parent_linear_transform_moves_the_grid(scene):  # noqa: F811
    geometry = oblique_geometry()
    node = volumes.add_volume_node(scene, np.zeros(geometry.array_shape, np.float32), geometry,
                                   "moved")
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    shift = np.eye(4)
    shift[:3, 3] = [10.0, -5.0, 2.0]
    transform.SetMatrixTransformToParent(volumes.vtk_matrix(shift))
    node.SetAndObserveTransformNodeID(transform.GetID())

    moved = volumes.geometry_from_node(node)
    assert np.allclose(np.array(moved.origin) - geometry.origin, [-10.0, 5.0, 2.0])
    assert geometry.mismatch(volumes.geometry_from_node(node, world=False)) is None


def test_geometry_from_matrix_recovers_spacing_and_direction():
    geometry = oblique_geometry((3, 3, 3))
    back = volumes.geometry_from_ijk_to_ras(geometry.ijk_to_ras(), geometry.size)
    assert geometry.mismatch(back) is None
    assert np.allclose(back.spacing, geometry.spacing)


def test_vector_volume_is_refused(scene):  # noqa: F811
    import vtk

    node = scene.AddNewNodeByClass("vtkMRMLVectorVolumeNode", "rgb")
    image = vtk.vtkImageData()
    image.SetDimensions(2, 2, 1)
    image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 3)
    node.SetAndObserveImageData(image)
    with pytest.raises(UserInputError, match="3 components"):
        volumes.array_from_node(node)
    empty = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "empty")
    with pytest.raises(UserInputError, match="no image data"):
        volumes.geometry_from_node(empty)
