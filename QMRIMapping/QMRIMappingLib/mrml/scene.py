"""An MRML scene without the Slicer application, and ``.mrb`` bundles written and read back.

Inside Slicer the application owns the scene and its data I/O manager. A script or a test
that builds its own ``vtkMRMLScene`` must give it a cache and data I/O manager itself,
otherwise ``ReadFromMRB`` refuses to unpack a bundle; :func:`new_scene` does that. Saving
and loading use the scene's own ``WriteToMRB``/``ReadFromMRB``, which write every storable
node (volumes as NRRD, segmentations as .seg.nrrd, tables as TSV) next to the .mrml file
in one zip, the same bundle Slicer's "Save" writes.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import slicer

from ..errors import UserInputError

_CACHE_DIRECTORY: str | None = None


def _cache_directory() -> str:
    """One scratch folder per process for the scenes' caches, removed when it exits."""
    global _CACHE_DIRECTORY
    if _CACHE_DIRECTORY is None:
        _CACHE_DIRECTORY = tempfile.mkdtemp(prefix="qmri-mrml-cache-")
        atexit.register(shutil.rmtree, _CACHE_DIRECTORY, ignore_errors=True)
    return _CACHE_DIRECTORY


def new_scene():
    """A fresh ``vtkMRMLScene`` able to read and write files and bundles on its own."""
    scene = slicer.vtkMRMLScene()
    prepare_scene_io(scene)
    return scene


def prepare_scene_io(scene) -> None:
    """Give ``scene`` a cache and data I/O manager unless it has them (Slicer's scene has)."""
    if scene.GetDataIOManager() is not None and scene.GetCacheManager() is not None:
        return
    cache = slicer.vtkCacheManager()
    cache.SetRemoteCacheDirectory(_cache_directory())
    io_manager = slicer.vtkDataIOManager()
    io_manager.SetCacheManager(cache)
    scene.SetCacheManager(cache)
    scene.SetDataIOManager(io_manager)


def save_mrb(scene, path: str | Path) -> Path:
    """Write the whole scene as a Medical Reality Bundle (``.mrb``); returns the path."""
    path = Path(path).resolve()
    if path.suffix.lower() != ".mrb":
        raise UserInputError(f"{path} must end in .mrb")
    path.parent.mkdir(parents=True, exist_ok=True)
    prepare_scene_io(scene)
    if not scene.WriteToMRB(str(path)):
        raise UserInputError(f"the scene could not be saved as {path}")
    return path


def load_mrb(path: str | Path, scene=None):
    """Read a ``.mrb`` bundle into ``scene`` (a new one by default); returns the scene.

    Reading replaces what ``scene`` held, as opening a bundle in Slicer does.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise UserInputError(f"scene bundle {path} does not exist")
    scene = scene if scene is not None else new_scene()
    prepare_scene_io(scene)
    if not scene.ReadFromMRB(str(path)):
        raise UserInputError(f"scene bundle {path} could not be read")
    return scene


def nodes_by_class(scene, class_name: str) -> list:
    """All nodes of ``class_name`` (subclasses included) in scene order."""
    collection = scene.GetNodesByClass(class_name)
    return [collection.GetItemAsObject(i) for i in range(collection.GetNumberOfItems())]


def nodes_with_attribute(scene, class_name: str, **attributes: str) -> list:
    """Nodes of ``class_name`` whose attributes equal the given ``QMRI.<key>`` values."""
    found = []
    for node in nodes_by_class(scene, class_name):
        if all(node.GetAttribute(f"QMRI.{key}") == value for key, value in attributes.items()):
            found.append(node)
    return found
