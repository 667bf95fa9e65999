"""Record what a piece of work adds to a scene, so it can be taken out again.

A cancelled or failed mapping run must leave the scene as it found it. Instead of every
function reporting what it created (display, storage and colour nodes, subject hierarchy
items made by plugins inside Slicer ...), :class:`SceneChanges` compares the scene's nodes
and hierarchy items before and after each block of work and keeps the difference.
Only the run's own blocks are measured, never the GUI event processing between them, so
nodes a user adds meanwhile are left alone.
"""

from __future__ import annotations

from contextlib import contextmanager

import vtk

from . import hierarchy


class SceneChanges:
    """Nodes and subject hierarchy items added to ``scene`` inside :meth:`track` blocks."""

    def __init__(self, scene) -> None:
        self.scene = scene
        self.nodes: list[str] = []
        self.items: list[int] = []
        hierarchy.hierarchy(scene)  # exists before any tracking, so an undo keeps it

    @contextmanager
    def track(self):
        """Record what the ``with`` block adds (also when it raises)."""
        nodes_before = set(node_ids(self.scene))
        items_before = set(item_ids(self.scene))
        try:
            yield self
        finally:
            self.nodes += [n for n in node_ids(self.scene) if n not in nodes_before]
            self.items += [i for i in item_ids(self.scene) if i not in items_before]

    def undo(self) -> None:
        """Remove the recorded nodes, then the recorded items still there, newest first."""
        for node_id in reversed(self.nodes):
            node = self.scene.GetNodeByID(node_id)
            if node is not None:
                self.scene.RemoveNode(node)
        sh = hierarchy.hierarchy(self.scene)
        for item in reversed(self.items):
            if item in set(item_ids(self.scene)):
                sh.RemoveItem(item, False, False)
        self.nodes.clear()
        self.items.clear()


def node_ids(scene) -> list[str]:
    """IDs of all nodes of ``scene`` in scene order."""
    collection = scene.GetNodes()
    return [collection.GetItemAsObject(i).GetID() for i in range(collection.GetNumberOfItems())]


def item_ids(scene) -> list[int]:
    """All subject hierarchy item IDs below the scene item."""
    sh = hierarchy.hierarchy(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return [ids.GetId(i) for i in range(ids.GetNumberOfIds())]
