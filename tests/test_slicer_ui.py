"""The module panel's Qt Designer file: it loads, and the module script matches it.

The .ui is loaded with PySide6's QUiLoader on the offscreen platform, with placeholder
classes registered for Slicer's custom widgets (qMRMLNodeComboBox, ctkCollapsibleButton,
...), in a child process so a Qt problem cannot take the test session down. Then every
``self.ui.<name>`` the module uses must exist, and every widget bound to the parameter node
(``SlicerParameterName``) must name a parameter of a type its widget can show.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UI_FILE = ROOT / "QMRIMapping" / "Resources" / "UI" / "QMRIMapping.ui"
MODULE_SCRIPT = ROOT / "QMRIMapping" / "QMRIMapping.py"

#: Slicer/CTK classes the .ui uses, with the Qt class each placeholder derives from.
CUSTOM_WIDGETS = {
    "qMRMLWidget": "QWidget", "ctkCollapsibleButton": "QWidget", "ctkPathLineEdit": "QWidget",
    "qMRMLNodeComboBox": "QWidget", "qMRMLCheckableNodeComboBox": "qMRMLNodeComboBox",
    "qMRMLSegmentEditorWidget": "qMRMLWidget", "qMRMLTableView": "QTableView",
}

#: Which parameter types a bound widget class can show (what parameterNodeWrapper connects).
BINDABLE = {
    "qMRMLNodeComboBox": "node", "ctkPathLineEdit": "path", "QCheckBox": "bool",
    "QSpinBox": "int", "QComboBox": "choice",
}

LOADER = r'''
import json, sys
from PySide6.QtCore import QByteArray, QBuffer, QIODevice
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from PySide6.QtUiTools import QUiLoader

app = QApplication([])
bases = {"QWidget": QWidget, "QTableView": QTableView}
classes = {}
for name, base in json.loads(sys.argv[2]).items():
    classes[name] = type(name, (classes.get(base) or bases[base],), {})
loader = QUiLoader()
for cls in classes.values():
    loader.registerCustomWidget(cls)
buffer = QBuffer()
buffer.setData(QByteArray(open(sys.argv[1], "rb").read()))
buffer.open(QIODevice.ReadOnly)
root = loader.load(buffer)
if root is None:
    print(json.dumps({"error": loader.errorString()}))
    sys.exit(1)
widgets = {w.objectName(): type(w).__name__ for w in root.findChildren(QWidget)}
widgets[root.objectName()] = type(root).__name__
bound = {w.objectName(): w.property("SlicerParameterName") for w in root.findChildren(QWidget)
         if w.property("SlicerParameterName")}
print(json.dumps({"widgets": widgets, "bound": bound}))
'''


@pytest.fixture(scope="module")
def loaded() -> dict:
    pytest.importorskip("PySide6.QtUiTools")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    completed = subprocess.run(
        [sys.executable, "-c", LOADER, str(UI_FILE), json.dumps(CUSTOM_WIDGETS)],
        capture_output=True, text=True, env=env, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:] + completed.stdout[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def ui_tree() -> ET.Element:
    return ET.parse(UI_FILE).getroot()


def module_ui_names() -> set[str]:
    """Every ``self.ui.<name>`` the module script touches."""
    tree = ast.parse(MODULE_SCRIPT.read_text())
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "ui" and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "self"}


def parameter_annotations() -> dict[str, str]:
    """Parameter name -> annotation source of the parameter node wrapper class."""
    tree = ast.parse(MODULE_SCRIPT.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "QMRIMappingParameterNode":
            decorators = [ast.unparse(d) for d in node.decorator_list]
            assert "parameterNodeWrapper" in decorators
            return {item.target.id: ast.unparse(item.annotation) for item in node.body
                    if isinstance(item, ast.AnnAssign)}
    raise AssertionError("QMRIMappingParameterNode is missing")


def test_ui_loads_with_placeholders_for_slicer_widgets(loaded):
    widgets = loaded["widgets"]
    assert widgets["QMRIMapping"] == "qMRMLWidget"
    for name, cls in (("segmentEditorWidget", "qMRMLSegmentEditorWidget"),
                      ("inputVolumesSelector", "qMRMLCheckableNodeComboBox"),
                      ("roiSegmentationSelector", "qMRMLNodeComboBox"),
                      ("statisticsTableView", "qMRMLTableView"),
                      ("inputsCollapsibleButton", "ctkCollapsibleButton"),
                      ("exportFolderPathLineEdit", "ctkPathLineEdit"),
                      ("applyButton", "QPushButton"), ("progressBar", "QProgressBar")):
        assert widgets.get(name) == cls, name


def test_custom_widgets_are_declared():
    declared = {c.findtext("class"): c.findtext("extends")
                for c in ui_tree().iter("customwidget")}
    assert declared == CUSTOM_WIDGETS
    used = {w.get("class") for w in ui_tree().iter("widget")}
    qt_classes = {"QWidget", "QLabel", "QPushButton", "QComboBox", "QCheckBox", "QSpinBox",
                  "QTableWidget", "QProgressBar"}
    assert used <= set(CUSTOM_WIDGETS) | qt_classes, used - set(CUSTOM_WIDGETS) - qt_classes


def test_every_ui_name_the_module_uses_exists(loaded):
    missing = sorted(module_ui_names() - set(loaded["widgets"]))
    assert not missing, f"QMRIMapping.py uses self.ui names missing from the .ui: {missing}"
    assert len(module_ui_names()) > 20


def test_bound_widgets_name_parameters_of_a_matching_type(loaded):
    annotations = parameter_annotations()
    widgets = loaded["widgets"]
    assert loaded["bound"], "no widget is bound to the parameter node"
    for widget, parameter in loaded["bound"].items():
        assert parameter in annotations, f"{widget} binds unknown parameter {parameter}"
        kind = BINDABLE.get(widgets[widget])
        annotation = annotations[parameter]
        assert kind is not None, f"{widget} ({widgets[widget]}) cannot be bound"
        expected = {"node": annotation.startswith("vtkMRML"),
                    "path": annotation == "pathlib.Path",
                    "bool": annotation == "bool",
                    "int": annotation.startswith("Annotated[int"),
                    "choice": annotation.startswith("Annotated[str, Choice(")}[kind]
        assert expected, f"{widget} ({widgets[widget]}) cannot show {parameter}: {annotation}"


def test_mrml_widgets_get_the_scene_from_the_panel():
    receivers = {c.findtext("receiver") for c in ui_tree().iter("connection")
                 if c.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"}
    assert receivers == {"inputVolumesSelector", "inputSequenceSelector",
                         "roiSegmentationSelector", "segmentEditorWidget",
                         "statisticsTableView"}
