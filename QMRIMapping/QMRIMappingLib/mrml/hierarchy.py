"""Subject hierarchy placement: results go under the study their input images belong to.

Inside Slicer the subject hierarchy plugins give every new node an item; a bare scene (the
tests, a batch script) does not, so every function here creates the item when it is
missing instead of assuming it.
"""

from __future__ import annotations

import slicer

DEFAULT_SUBJECT = "QMRI subject"
DEFAULT_STUDY = "QMRI study"


def hierarchy(scene):
    """The scene's subject hierarchy node (created on first use)."""
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def item_of(scene, node, parent: int | None = None) -> int:
    """Subject hierarchy item of ``node``, created under ``parent`` (or the scene) if absent."""
    sh = hierarchy(scene)
    item = sh.GetItemByDataNode(node)
    if not item:
        item = sh.CreateItem(parent or sh.GetSceneItemID(), node)
    return item


def study_of(scene, node) -> int:
    """The study item above ``node``, or 0 when it is not under a study."""
    sh = hierarchy(scene)
    study_level = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMLevelStudy()
    item = sh.GetItemByDataNode(node)
    while item and item != sh.GetSceneItemID():
        if sh.GetItemLevel(item) == study_level:
            return item
        item = sh.GetItemParent(item)
    return 0


def ensure_study(scene, nodes: list, subject_name: str = DEFAULT_SUBJECT,
                 study_name: str = DEFAULT_STUDY) -> int:
    """The study of the first input node that has one; otherwise a new subject and study
    that then hold all ``nodes``, so inputs and results are found together."""
    nodes = [node for node in dict.fromkeys(nodes) if node.GetScene() is scene]
    for node in nodes:
        study = study_of(scene, node)
        if study:
            return study
    sh = hierarchy(scene)
    subject = sh.CreateSubjectItem(sh.GetSceneItemID(), subject_name)
    study = sh.CreateStudyItem(subject, study_name)
    for node in nodes:
        sh.SetItemParent(item_of(scene, node), study)
    return study


def create_folder(scene, parent: int, name: str) -> int:
    """A folder item under ``parent``."""
    return hierarchy(scene).CreateFolderItem(parent, name)


def place(scene, node, parent: int) -> int:
    """Put ``node`` under ``parent``; returns its item."""
    item = item_of(scene, node, parent)
    hierarchy(scene).SetItemParent(item, parent)
    return item


def remove_item(scene, item: int) -> None:
    """Remove a (folder) item and the items below it, without touching data nodes."""
    if item:
        hierarchy(scene).RemoveItem(item, False, False)
