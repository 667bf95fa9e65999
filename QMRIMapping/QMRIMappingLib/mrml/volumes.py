"""Volume nodes <-> numpy arrays, keeping the voxel grid's IJK->RAS geometry exact.

The core holds geometry in DICOM patient coordinates (LPS, :class:`~..geometry.Geometry`)
and arrays indexed ``[z, y, x]`` (``[k, j, i]``); Slicer holds volumes in RAS with the
image data's origin and spacing folded into the node's IJK->RAS matrix. These functions
convert between the two without resampling, so an oblique acquisition stays oblique and a
map written back lies voxel for voxel on the images it came from.
"""

from __future__ import annotations

import numpy as np
import vtk
from vtk.util import numpy_support

from ..errors import UserInputError
from ..geometry import Geometry

#: LPS <-> RAS flips the first two axes; the matrix is its own inverse.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def geometry_to_ijk_to_ras(geometry: Geometry) -> np.ndarray:
    """4x4 IJK->RAS matrix of a core grid (the node's ``SetIJKToRASMatrix`` argument)."""
    return geometry.ijk_to_ras()


def geometry_from_ijk_to_ras(matrix: np.ndarray, size: tuple[int, int, int]) -> Geometry:
    """Core grid (LPS) from an IJK->RAS matrix and the image size (i, j, k)."""
    lps = LPS_TO_RAS @ np.asarray(matrix, dtype=float)
    axes = lps[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    if np.any(spacing <= 0):
        raise UserInputError("volume has a zero voxel spacing; its geometry is invalid")
    direction = axes / spacing
    return Geometry(size=tuple(int(v) for v in size),
                    spacing=tuple(float(v) for v in spacing),
                    origin=tuple(float(v) for v in lps[:3, 3]),
                    direction=tuple(float(v) for v in direction.ravel()))


def vtk_matrix(array: np.ndarray) -> vtk.vtkMatrix4x4:
    """A vtkMatrix4x4 holding a 4x4 numpy array."""
    matrix = vtk.vtkMatrix4x4()
    for row in range(4):
        for column in range(4):
            matrix.SetElement(row, column, float(array[row, column]))
    return matrix


def numpy_matrix(matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    """A 4x4 numpy array holding a vtkMatrix4x4."""
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def node_ijk_to_ras(node, world: bool = True) -> np.ndarray:
    """IJK->RAS of a volume node; with ``world`` its parent linear transform is applied.

    A volume under a non-linear transform has no single grid in world space and is refused.
    """
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    result = numpy_matrix(matrix)
    transform = node.GetParentTransformNode() if world else None
    if transform is not None:
        if not transform.IsTransformToWorldLinear():
            raise UserInputError(
                f"volume '{node.GetName()}' is under a non-linear transform; harden or "
                "remove the transform before mapping")
        to_world = vtk.vtkMatrix4x4()
        transform.GetMatrixTransformToWorld(to_world)
        result = numpy_matrix(to_world) @ result
    return result


def geometry_from_node(node, world: bool = True) -> Geometry:
    """Core grid of a volume node (LPS), including a parent linear transform by default."""
    image = node.GetImageData()
    if image is None:
        raise UserInputError(f"volume '{node.GetName()}' has no image data")
    return geometry_from_ijk_to_ras(node_ijk_to_ras(node, world), image.GetDimensions())


def array_from_node(node) -> np.ndarray:
    """Copy of a scalar volume's voxels as a numpy array indexed ``[k, j, i]``."""
    image = node.GetImageData()
    if image is None or image.GetPointData().GetScalars() is None:
        raise UserInputError(f"volume '{node.GetName()}' has no image data")
    scalars = image.GetPointData().GetScalars()
    if scalars.GetNumberOfComponents() != 1:
        raise UserInputError(f"volume '{node.GetName()}' has {scalars.GetNumberOfComponents()} "
                             "components; pick a scalar (grey-value) volume")
    dims = image.GetDimensions()
    return numpy_support.vtk_to_numpy(scalars).reshape(dims[::-1]).copy()


def set_node_array(node, array: np.ndarray, geometry: Geometry) -> None:
    """Replace a volume node's voxels and geometry with ``array`` ``[k, j, i]`` on ``geometry``."""
    array = np.ascontiguousarray(array)
    if array.shape != geometry.array_shape:
        raise ValueError(f"array shape {array.shape} does not match grid {geometry.array_shape}")
    if array.dtype == bool:
        array = array.astype(np.uint8)
    image = vtk.vtkImageData()
    image.SetDimensions(*geometry.size)
    scalars = numpy_support.numpy_to_vtk(array.ravel(), deep=True,
                                         array_type=numpy_support.get_vtk_array_type(array.dtype))
    image.GetPointData().SetScalars(scalars)
    node.SetIJKToRASMatrix(vtk_matrix(geometry_to_ijk_to_ras(geometry)))
    node.SetAndObserveImageData(image)


def add_volume_node(scene, array: np.ndarray, geometry: Geometry, name: str,
                    class_name: str = "vtkMRMLScalarVolumeNode", display: bool = True,
                    color_node=None):
    """Add a volume node holding ``array`` on ``geometry``.

    With ``display`` it gets a display node, using ``color_node`` when given (a labelmap's
    default colour table may not exist in an app-free scene); temporary volumes skip it.
    """
    node = scene.AddNewNodeByClass(class_name, name)
    set_node_array(node, array, geometry)
    if display and color_node is None:
        node.CreateDefaultDisplayNodes()
    elif display:
        display_class = ("vtkMRMLLabelMapVolumeDisplayNode" if node.IsA("vtkMRMLLabelMapVolumeNode")
                         else "vtkMRMLScalarVolumeDisplayNode")
        display_node = scene.AddNewNodeByClass(display_class)
        display_node.SetAndObserveColorNodeID(color_node.GetID())
        node.SetAndObserveDisplayNodeID(display_node.GetID())
    return node
