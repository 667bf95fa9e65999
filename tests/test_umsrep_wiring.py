"""Structural checks of the UMSRep Slicer module, runnable without Slicer: the module
script, its Qt Designer panel (loaded with PySide6's QUiLoader, offscreen), the CMake
files that install it, and the shipped model bundle."""

from __future__ import annotations

import ast
import json
import re
import sys
import types
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from .slicer_stubs import pure_stubs
from .test_slicer_wiring import (
    TEMPLATE_IMPORTS,
    base_name,
    cmake_commands,
    cmake_variables,
    gui_dependencies,
    is_listed,
    listed_files,
    png_size,
    strip_cmake_comments,
)

ROOT = Path(__file__).resolve().parents[1]
MODULE_DIR = ROOT / "UMSRep"
MODULE_SCRIPT = MODULE_DIR / "UMSRep.py"
UI_FILE = MODULE_DIR / "Resources" / "UI" / "UMSRep.ui"
LIB_DIR = MODULE_DIR / "UMSRepLib"
SHIPPED = MODULE_DIR / "Resources" / "Models" / "liver_mr"

EXPECTED_CLASSES = {"UMSRep": "ScriptedLoadableModule", "UMSRepWidget":
                    "ScriptedLoadableModuleWidget", "UMSRepLogic": "ScriptedLoadableModuleLogic",
                    "UMSRepTest": "ScriptedLoadableModuleTest"}


def test_module_script_classes_and_imports():
    tree = ast.parse(MODULE_SCRIPT.read_text())
    classes = {node.name: [base_name(b) for b in node.bases]
               for node in tree.body if isinstance(node, ast.ClassDef)}
    for name, base in EXPECTED_CLASSES.items():
        assert classes[name][0] == base, name
    top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert all(m.split(".")[0] in TEMPLATE_IMPORTS for m in modules), modules


@pytest.fixture
def module_under_stubs(monkeypatch, tmp_path):
    stubs = pure_stubs()
    stubs["slicer"].vtkMRMLScalarVolumeNode = type("vtkMRMLScalarVolumeNode", (), {})
    for name, stub in stubs.items():
        monkeypatch.setitem(sys.modules, name, stub)
    import importlib.util

    spec = importlib.util.spec_from_file_location("UMSRep_under_test", MODULE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_metadata_and_parameter_node(module_under_stubs):
    parent = types.SimpleNamespace()
    module_under_stubs.UMSRep(parent)
    assert parent.categories == ["Quantification"] and "UMSRep" in parent.title
    assert "Zamzmi" in parent.acknowledgementText and parent.helpText.strip()
    node = module_under_stubs.UMSRepLogic().getParameterNode()
    assert node.model == "liver_mr" and node.heatmapOpacity == 0.5
    bound = {element.text for element in ElementTree.parse(UI_FILE).iter("string")
             if element.text} & set(module_under_stubs.UMSRepParameterNode.parameters)
    declared = _parameter_names()
    assert declared <= set(module_under_stubs.UMSRepParameterNode.parameters), declared
    assert bound == declared


def test_widget_setup_lists_models_and_connects(module_under_stubs, monkeypatch, tmp_path):
    (tmp_path / "m1").mkdir()
    (tmp_path / "m1" / "model.json").write_text(json.dumps(
        {"name": "m1", "tasks": [{"name": "liver"}, {"name": "quality"}]}))
    monkeypatch.setenv("UMSREP_MODELS", str(tmp_path))
    widget = module_under_stubs.UMSRepWidget()
    widget.setup()
    added = [call.args for call in widget.ui.modelComboBox.addItem.call_args_list]
    assert added == [("m1", "m1")]
    widget.ui.analyzeButton.clicked.connect.assert_called_once_with(widget.onAnalyze)
    widget.ui.useAsRoiButton.clicked.connect.assert_called_once_with(widget.onUseAsRoi)
    widget.cleanup()


def test_core_import_self_test_runs(module_under_stubs):
    test = module_under_stubs.UMSRepTest("test_UMSRepCoreImport")
    test.test_UMSRepCoreImport()


# --- the .ui ---------------------------------------------------------------------------


def _ui_widgets() -> dict[str, str]:
    return {w.get("name"): w.get("class") for w in ElementTree.parse(UI_FILE).iter("widget")}


def _parameter_names() -> set[str]:
    names = set()
    for widget in ElementTree.parse(UI_FILE).iter("widget"):
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                names.add(prop.find("string").text)
    return names


def test_every_widget_the_script_uses_is_in_the_ui():
    used = set(re.findall(r"self\.ui\.(\w+)", MODULE_SCRIPT.read_text()))
    widgets = _ui_widgets()
    assert used and not used - set(widgets), f"missing in UMSRep.ui: {used - set(widgets)}"
    assert widgets["inputVolumeSelector"] == "qMRMLNodeComboBox"
    assert widgets["probabilityTableView"] == "qMRMLTableView"
    assert widgets["heatmapOpacitySlider"] == "ctkSliderWidget"
    tree = ElementTree.parse(UI_FILE)
    declared = {c.find("class").text for c in tree.iter("customwidget")}
    custom = {cls for cls in widgets.values() if cls.startswith(("qMRML", "ctk"))}
    assert custom <= declared, f"undeclared custom widgets: {custom - declared}"
    receivers = {c.find("receiver").text for c in tree.iter("connection")}
    mrml = {name for name, cls in widgets.items() if cls.startswith("qMRML") and name != "UMSRep"}
    assert mrml <= receivers, f"no setMRMLScene connection for {mrml - receivers}"


def test_ui_loads_with_quiloader(monkeypatch):
    pytest.importorskip("PySide6.QtUiTools", reason="PySide6 is not installed")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QFile
    from PySide6.QtUiTools import QUiLoader
    from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLabel, QPushButton

    app = QApplication.instance() or QApplication([])
    ui_file = QFile(str(UI_FILE))
    assert ui_file.open(QFile.ReadOnly)
    widget = QUiLoader().load(ui_file)
    ui_file.close()
    assert widget is not None and widget.objectName() == "UMSRep"
    buttons = {b.objectName(): b for b in widget.findChildren(QPushButton)}
    assert buttons["useAsRoiButton"].text() == "Use as ROI in QMRIMapping"
    assert not buttons["useAsRoiButton"].isEnabled() and not buttons["analyzeButton"].isEnabled()
    assert widget.findChild(QComboBox, "modelComboBox") is not None
    assert widget.findChild(QCheckBox, "showHeatmapCheckBox").isChecked()
    assert widget.findChild(QLabel, "recommendationLabel").wordWrap()
    widget.deleteLater()
    del app


# --- CMake and the core ----------------------------------------------------------------


def test_cmake_installs_the_module_library_and_resources():
    commands = cmake_commands((MODULE_DIR / "CMakeLists.txt").read_text())
    assert cmake_variables(commands)["MODULE_NAME"] == ["UMSRep"]
    build = [args for name, args in commands if name == "slicermacrobuildscriptedmodule"]
    assert len(build) == 1 and "WITH_GENERIC_TESTS" in build[0]
    literals, patterns = listed_files(commands, "MODULE_PYTHON_SCRIPTS")
    core = [p.relative_to(MODULE_DIR).as_posix() for p in LIB_DIR.rglob("*.py")
            if "__pycache__" not in p.parts]
    assert is_listed("UMSRep.py", literals, patterns)
    assert [f for f in core if not is_listed(f, literals, patterns)] == []
    literals, patterns = listed_files(commands, "MODULE_PYTHON_RESOURCES")
    for resource in ("Resources/Icons/UMSRep.png", "Resources/UI/UMSRep.ui"):
        assert resource in literals and (MODULE_DIR / resource).is_file()
    models = [p.relative_to(MODULE_DIR).as_posix() for p in
              (MODULE_DIR / "Resources" / "Models").rglob("*") if p.is_file()]
    assert "Resources/Models/liver_mr.yaml" in models
    assert [m for m in models if not is_listed(m, literals, patterns)] == []
    assert png_size(MODULE_DIR / "Resources" / "Icons" / "UMSRep.png") == (128, 128)
    text = strip_cmake_comments((MODULE_DIR / "CMakeLists.txt").read_text())
    assert re.search(r"slicer_add_python_unittest\s*\(\s*SCRIPT\s+\$\{MODULE_NAME\}\.py", text)
    top = cmake_commands((ROOT / "CMakeLists.txt").read_text())
    assert ("add_subdirectory", ["UMSRep"]) in top


def test_core_library_has_no_gui_or_application_dependencies():
    problems = {p.name: gui_dependencies(p.read_text(), str(p)) for p in LIB_DIR.rglob("*.py")}
    assert not {k: v for k, v in problems.items() if v}


# --- the shipped model ------------------------------------------------------------------


def test_shipped_model_is_verified_small_and_documented():
    if not (SHIPPED / "model.json").is_file():
        pytest.skip("the shipped liver_mr model has not been built (umsrep reproduce)")
    from UMSRepLib.model_files import load_bundle

    bundle = load_bundle(SHIPPED)
    card = bundle.card
    assert {t["name"] for t in card["tasks"]} == {"denoise", "liver", "quality", "tissue"}
    assert all(p.stat().st_size < 10 * 2**20 for p in SHIPPED.iterdir())
    training = card["training"]
    assert training["data"]["generated_with"]["family"] == "liver-mr"
    assert training["config"]["source_config"]["name"] == "liver_mr"
    assert training["total_seconds"] > 0 and [s["kind"] for s in training["stages"]][0] == \
        "pretrain"
    assert {"liver", "quality", "tissue", "denoise"} <= set(card["metrics"])
    assert all(len(entry["sha256"]) == 64 for entry in card["files"].values())
