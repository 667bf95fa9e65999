"""Stand-ins for what only the Slicer application provides, to run QMRIMapping.py in tests.

Two flavours:

* :func:`pure_stubs` - ``slicer``, ``qt`` and ``ctk`` are all stand-ins (MagicMocks and
  tiny classes): enough to import the module script and run the widget's setup code.
* :func:`mrml_stubs` - the real ``slicer`` package of the slicer-core wheel (real MRML
  scene, nodes and logic classes) with only the application parts stubbed
  (``slicer.mrmlScene`` is a real app-free scene, ScriptedLoadableModule and the parameter
  node wrapper are stand-ins), so the module's Logic and self-test run for real.
"""

from __future__ import annotations

import importlib.util
import sys
import types
import unittest
from pathlib import Path
from unittest import mock

MODULE_SCRIPT = Path(__file__).resolve().parents[1] / "QMRIMapping" / "QMRIMapping.py"


class ScriptedLoadableModule:
    def __init__(self, parent):
        self.parent = parent

    def resourcePath(self, name):  # noqa: N802 (Slicer's name)
        return str(MODULE_SCRIPT.parent / "Resources" / name)


class ScriptedLoadableModuleWidget:
    def __init__(self, parent=None):
        self.parent = parent if parent is not None else mock.MagicMock(name="parent")

    def setup(self):
        self.layout = mock.MagicMock(name="layout")

    def resourcePath(self, name):  # noqa: N802
        return str(MODULE_SCRIPT.parent / "Resources" / name)


class ScriptedLoadableModuleLogic:
    def __init__(self, parent=None):
        self.parent = parent

    def getParameterNode(self):  # noqa: N802
        return mock.MagicMock(name="vtkMRMLScriptedModuleNode")


class ScriptedLoadableModuleTest(unittest.TestCase):
    def delayDisplay(self, message, msec=1000):  # noqa: N802
        pass


class VTKObservationMixin:
    def __init__(self):
        self.observations = []

    def addObserver(self, obj, event, method, *args, **kwargs):  # noqa: N802
        self.observations.append((obj, event, method))

    def removeObserver(self, obj, event, method):  # noqa: N802
        pass

    def removeObservers(self, method=None):  # noqa: N802
        self.observations.clear()


class Choice:
    def __init__(self, choices):
        self.choices = choices


class WithinRange:
    def __init__(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum


def parameter_node_wrapper(cls):
    """Stand-in for slicer.parameterNodeWrapper: an object with the class's defaults."""
    annotations = dict(cls.__annotations__)

    class Wrapped:
        parameters = annotations

        def __init__(self, node=None):
            self.node = node
            for name in annotations:
                setattr(self, name, getattr(cls, name, None))

        def connectGui(self, ui):  # noqa: N802
            return "gui-tag"

        def disconnectGui(self, tag):  # noqa: N802
            pass

    Wrapped.__name__ = cls.__name__
    Wrapped.__doc__ = cls.__doc__
    return Wrapped


class UiStub:
    """``self.ui``: every widget is a MagicMock with neutral counts and selections."""

    def __getattr__(self, name):
        widget = mock.MagicMock(name=name)
        widget.rowCount = 0
        widget.count = 0
        widget.currentIndex = 0
        widget.currentData = None
        widget.findData.return_value = -1
        widget.checkedNodes.return_value = []
        widget.currentNode.return_value = None
        setattr(self, name, widget)
        return widget


def _wrapper_module():
    wrapper = types.ModuleType("slicer.parameterNodeWrapper")
    wrapper.parameterNodeWrapper = parameter_node_wrapper
    wrapper.Choice = Choice
    wrapper.WithinRange = WithinRange
    return wrapper


def _scripted_module():
    scripted = types.ModuleType("slicer.ScriptedLoadableModule")
    for cls in (ScriptedLoadableModule, ScriptedLoadableModuleWidget,
                ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest):
        setattr(scripted, cls.__name__, cls)
    return scripted


def pure_stubs() -> dict[str, object]:
    """sys.modules entries for a Slicer-free import of the module script."""
    scripted = _scripted_module()
    util = types.ModuleType("slicer.util")
    util.VTKObservationMixin = VTKObservationMixin
    util.loadUI = mock.MagicMock(name="loadUI")
    util.childWidgetVariables = lambda widget: UiStub()
    for name in ("errorDisplay", "confirmOkCancelDisplay", "pip_install", "getModuleLogic",
                 "setSliceViewerLayers", "tryWithErrorDisplay", "WaitCursor"):
        setattr(util, name, mock.MagicMock(name=name))
    slicer = types.ModuleType("slicer")
    slicer.ScriptedLoadableModule = scripted
    slicer.util = util
    slicer.parameterNodeWrapper = _wrapper_module()
    slicer.mrmlScene = mock.MagicMock(name="mrmlScene")
    slicer.app = mock.MagicMock(name="app")
    slicer.modules = types.SimpleNamespace()
    for name in ("vtkMRMLSegmentationNode", "vtkMRMLSequenceNode", "vtkMRMLTableNode"):
        setattr(slicer, name, type(name, (), {}))
    return {"slicer": slicer, "slicer.ScriptedLoadableModule": scripted, "slicer.util": util,
            "slicer.parameterNodeWrapper": slicer.parameterNodeWrapper,
            "qt": mock.MagicMock(name="qt"), "ctk": mock.MagicMock(name="ctk")}


def apply_mrml_stubs(monkeypatch, scene) -> None:
    """Make the real slicer-core ``slicer`` package look like Slicer's for the module."""
    import slicer

    scripted = _scripted_module()
    wrapper = _wrapper_module()
    monkeypatch.setattr(slicer, "mrmlScene", scene, raising=False)
    monkeypatch.setattr(slicer, "ScriptedLoadableModule", scripted, raising=False)
    monkeypatch.setattr(slicer, "parameterNodeWrapper", wrapper, raising=False)
    monkeypatch.setattr(slicer, "modules", types.SimpleNamespace(), raising=False)
    monkeypatch.setitem(sys.modules, "slicer.ScriptedLoadableModule", scripted)
    monkeypatch.setitem(sys.modules, "slicer.parameterNodeWrapper", wrapper)
    monkeypatch.setitem(sys.modules, "qt", mock.MagicMock(name="qt"))
    monkeypatch.setitem(sys.modules, "ctk", mock.MagicMock(name="ctk"))


def load_module_script(name: str = "QMRIMapping_under_test"):
    """Execute QMRIMapping.py as a fresh module (after the stubs are in place)."""
    spec = importlib.util.spec_from_file_location(name, MODULE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
