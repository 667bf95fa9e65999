"""Structural checks of the Slicer extension wiring, runnable without Slicer.

Slicer itself is not available to the test suite, so these tests check what can go
wrong silently until someone builds the extension: the module script's classes and
metadata (run against stub ``slicer``/``qt``/``ctk`` modules), the CMake files that
install it (a core file missing from the module's script list is only noticed when
Slicer fails to import it), the icons they reference, and that the core library stays
free of Qt and Slicer application code so it keeps running from the command line.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
import types
from pathlib import Path

import pytest

from .slicer_stubs import load_module_script, pure_stubs

ROOT = Path(__file__).resolve().parents[1]
MODULE_DIR = ROOT / "QMRIMapping"
MODULE_SCRIPT = MODULE_DIR / "QMRIMapping.py"
LIB_DIR = MODULE_DIR / "QMRIMappingLib"
REPO_RAW_URL = "https://raw.githubusercontent.com/SlicerMultiTaskQMRI/SlicerMultiTaskQMRI/"
HOMEPAGE = "https://github.com/SlicerMultiTaskQMRI/SlicerMultiTaskQMRI"

EXPECTED_CLASSES = {
    "QMRIMapping": "ScriptedLoadableModule",
    "QMRIMappingWidget": "ScriptedLoadableModuleWidget",
    "QMRIMappingLogic": "ScriptedLoadableModuleLogic",
    "QMRIMappingTest": "ScriptedLoadableModuleTest",
}

#: Modules the Slicer scripted-module template imports at module level (plus stdlib).
TEMPLATE_IMPORTS = {"__future__", "ctk", "qt", "vtk", "slicer", "logging", "os", "typing",
                    "unittest", "pathlib"}


# --- small CMake reader ---------------------------------------------------------------------


def strip_cmake_comments(text: str) -> str:
    """Drop ``#`` comments (outside quoted arguments) so commented-out code never counts."""
    lines = []
    for line in text.splitlines():
        quoted = False
        kept = []
        for char in line:
            if char == '"':
                quoted = not quoted
            elif char == "#" and not quoted:
                break
            kept.append(char)
        lines.append("".join(kept))
    return "\n".join(lines)


def cmake_commands(text: str) -> list[tuple[str, list[str]]]:
    """Commands as ``(lower-case name, arguments)`` in file order; quotes removed."""
    commands = []
    for match in re.finditer(r"\b([A-Za-z_]\w*)\s*\(((?:[^()\"]|\"[^\"]*\")*)\)",
                             strip_cmake_comments(text)):
        arguments = [a[1:-1] if a.startswith('"') else a
                     for a in re.findall(r"\"[^\"]*\"|[^\s\"]+", match.group(2))]
        commands.append((match.group(1).lower(), arguments))
    return commands


def cmake_variables(commands) -> dict[str, list[str]]:
    """Values of ``set(NAME ...)`` commands (the last one wins), ``${VAR}`` left as is."""
    return {args[0]: args[1:] for name, args in commands if name == "set" and args}


def cmake_globs(commands) -> dict[str, tuple[bool, list[str]]]:
    """``file(GLOB[_RECURSE] VAR ...)``: VAR -> (recursive, patterns relative to the dir)."""
    globs = {}
    for name, args in commands:
        if name != "file" or not args or args[0] not in ("GLOB", "GLOB_RECURSE"):
            continue
        recursive = args[0] == "GLOB_RECURSE"
        patterns = []
        skip_next = False
        for arg in args[2:]:
            if skip_next:
                skip_next = False
            elif arg in ("RELATIVE", "LIST_DIRECTORIES"):
                skip_next = True
            elif arg not in ("CONFIGURE_DEPENDS", "FOLLOW_SYMLINKS"):
                patterns.append(arg.replace("${CMAKE_CURRENT_SOURCE_DIR}/", ""))
        globs[args[1]] = (recursive, patterns)
    return globs


def listed_files(commands, variable: str) -> tuple[set[str], list[tuple[bool, str]]]:
    """Literal entries and glob patterns that make up a list variable such as the scripts."""
    variables = cmake_variables(commands)
    module_name = variables.get("MODULE_NAME", [""])[0]
    globs = cmake_globs(commands)
    literals: set[str] = set()
    patterns: list[tuple[bool, str]] = []
    for entry in variables.get(variable, []):
        reference = re.fullmatch(r"\$\{(\w+)\}", entry)
        if reference and reference.group(1) in globs:
            recursive, glob_patterns = globs[reference.group(1)]
            patterns.extend((recursive, p) for p in glob_patterns)
        else:
            literals.add(entry.replace("${MODULE_NAME}", module_name))
    return literals, patterns


def is_listed(relative: str, literals: set[str], patterns: list[tuple[bool, str]]) -> bool:
    """Whether a file (path relative to the module dir) is in a CMake list as CMake sees it.

    Scripts may be listed without ``.py`` (older Slicer style). A GLOB_RECURSE pattern
    ``dir/*.py`` matches ``*.py`` in ``dir`` and every folder below it.
    """
    if relative in literals or relative.removesuffix(".py") in literals:
        return True
    folder, _, name = relative.rpartition("/")
    for recursive, pattern in patterns:
        pattern_folder, _, pattern_name = pattern.rpartition("/")
        in_folder = (folder == pattern_folder or
                     (recursive and (pattern_folder == "" or
                                     folder.startswith(pattern_folder + "/"))))
        if in_folder and fnmatch.fnmatchcase(name, pattern_name):
            return True
    return False


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def module_commands() -> list[tuple[str, list[str]]]:
    return cmake_commands((MODULE_DIR / "CMakeLists.txt").read_text())


def top_commands() -> list[tuple[str, list[str]]]:
    return cmake_commands((ROOT / "CMakeLists.txt").read_text())


# --- the module script ----------------------------------------------------------------------


def base_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "?")


def test_module_script_defines_the_four_classes_with_slicer_bases():
    tree = ast.parse(MODULE_SCRIPT.read_text(), filename=str(MODULE_SCRIPT))
    classes = {node.name: [base_name(b) for b in node.bases]
               for node in tree.body if isinstance(node, ast.ClassDef)}
    for name, base in EXPECTED_CLASSES.items():
        assert name in classes, f"QMRIMapping.py does not define {name}"
        assert classes[name][0] == base, f"{name} derives from {classes[name]}, not {base}"
        assert set(classes[name][1:]) <= {"VTKObservationMixin"}, classes[name]


def test_module_script_imports_only_what_the_template_does():
    """No Qt binding other than Slicer's qt/ctk; the core is imported lazily in methods."""
    tree = ast.parse(MODULE_SCRIPT.read_text())
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = [alias.name for node in top_level if isinstance(node, ast.Import)
               for alias in node.names]
    modules += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
    for module in modules:
        assert module.split(".")[0] in TEMPLATE_IMPORTS, f"module-level import of {module}"
    hidden = [node.lineno for node in tree.body if isinstance(node, (ast.If, ast.Try, ast.With))
              and any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node))]
    assert not hidden, f"imports in module-level if/try/with blocks at lines {hidden}"


@pytest.fixture
def module_under_stubs(monkeypatch):
    for name, stub in pure_stubs().items():
        monkeypatch.setitem(sys.modules, name, stub)
    return load_module_script()


def test_module_metadata(module_under_stubs):
    parent = types.SimpleNamespace()
    module_under_stubs.QMRIMapping(parent)
    assert parent.title == "QMRI Mapping"
    assert parent.categories == ["Quantification"]
    assert parent.contributors and all(isinstance(c, str) and c for c in parent.contributors)
    assert parent.helpText.strip() and parent.acknowledgementText.strip()


def test_logic_fit_folder_calls_the_core(module_under_stubs, monkeypatch):
    calls = []

    def run_fit(input_path, out_dir, *, method="nlls", roi=None, reference=None,
                overwrite=False):
        calls.append((input_path, out_dir, method, roi, reference, overwrite))
        return {"maps": []}

    pipeline = types.ModuleType("QMRIMappingLib.pipeline")
    pipeline.run_fit = run_fit
    monkeypatch.setitem(sys.modules, "QMRIMappingLib.pipeline", pipeline)

    logic = module_under_stubs.QMRIMappingLogic()
    assert logic.fitFolder("/data/in", "/data/out") == {"maps": []}
    logic.fitFolder("/data/in", "/data/out", method="mtl", roiPath="/data/liver.seg.nrrd")
    assert calls == [("/data/in", "/data/out", "nlls", None, None, False),
                     ("/data/in", "/data/out", "mtl", "/data/liver.seg.nrrd", None, False)]


def test_module_loads_without_the_pipeline(module_under_stubs, monkeypatch):
    """The core's pipeline is imported when fitting, not when Slicer loads the module."""
    monkeypatch.setitem(sys.modules, "QMRIMappingLib.pipeline", None)   # import fails
    logic = module_under_stubs.QMRIMappingLogic()
    import QMRIMappingLib

    assert logic.coreVersion() == QMRIMappingLib.__version__
    with pytest.raises(ImportError):
        logic.fitFolder("/data/in", "/data/out")


def test_widget_setup_fills_the_choosers_from_the_core(module_under_stubs):
    widget = module_under_stubs.QMRIMappingWidget()
    widget.setup()
    from QMRIMappingLib.methods import available_methods

    added = [call.args for call in widget.ui.methodComboBox.addItem.call_args_list]
    assert added == [(m.label, m.name) for m in available_methods()]
    devices = [call.args[1] for call in widget.ui.deviceComboBox.addItem.call_args_list]
    assert devices == ["cpu", "cuda"]
    widget.onCancel()
    widget.cleanup()


def test_parameter_node_declares_every_bound_parameter(module_under_stubs):
    parameters = module_under_stubs.QMRIMappingParameterNode.parameters
    assert {"inputSource", "inputSequence", "roiSegmentation", "method", "device",
            "exportFolder", "chunkVoxels"} <= set(parameters)
    node = module_under_stubs.QMRIMappingLogic().getParameterNode()
    assert node.method == "nlls" and node.device == "cpu" and node.makePlots is True


def test_core_import_self_test_runs(module_under_stubs):
    test = module_under_stubs.QMRIMappingTest("test_QMRIMappingCoreImport")
    assert "cannot run" in (module_under_stubs.QMRIMappingTest.__doc__ or "")
    test.test_QMRIMappingCoreImport()


# --- CMake files ----------------------------------------------------------------------------


def test_top_level_cmake_is_a_slicer_extension():
    commands = top_commands()
    names = [name for name, _ in commands]
    variables = cmake_variables(commands)

    assert "cmake_minimum_required" in names
    assert ("project", ["SlicerMultiTaskQMRI"]) in commands
    assert variables.get("EXTENSION_HOMEPAGE") == [HOMEPAGE]
    assert variables.get("EXTENSION_CATEGORY") == ["Quantification"]
    for field in ("EXTENSION_CONTRIBUTORS", "EXTENSION_DESCRIPTION", "EXTENSION_ICONURL",
                  "EXTENSION_SCREENSHOTURLS"):
        assert variables.get(field) and all(v.strip() for v in variables[field]), field
    assert variables.get("EXTENSION_DEPENDS") == ["NA"]

    sequence = [("find_package", ["Slicer", "REQUIRED"]),
                ("include", ["${Slicer_USE_FILE}"]),
                ("add_subdirectory", ["QMRIMapping"]),
                ("include", ["${Slicer_EXTENSION_GENERATE_CONFIG}"]),
                ("include", ["${Slicer_EXTENSION_CPACK}"])]
    positions = []
    for command in sequence:
        assert command in commands, f"missing {command[0]}({' '.join(command[1])})"
        positions.append(commands.index(command))
    assert positions == sorted(positions), "extension commands are out of order"


def test_extension_icon_and_screenshot_urls_point_at_files_in_the_repository():
    variables = cmake_variables(top_commands())
    urls = variables["EXTENSION_ICONURL"] + " ".join(
        variables["EXTENSION_SCREENSHOTURLS"]).split()
    for url in urls:
        assert url.startswith(REPO_RAW_URL), url
        branch_and_path = url[len(REPO_RAW_URL):]
        relative = branch_and_path.split("/", 1)[1]
        assert (ROOT / relative).is_file(), f"{url} names {relative}, which does not exist"
    icon = variables["EXTENSION_ICONURL"][0][len(REPO_RAW_URL):].split("/", 1)[1]
    assert png_size(ROOT / icon) == (128, 128)


def test_module_cmake_builds_a_scripted_module_with_tests():
    commands = module_commands()
    variables = cmake_variables(commands)
    assert variables.get("MODULE_NAME") == ["QMRIMapping"]

    build = [args for name, args in commands if name == "slicermacrobuildscriptedmodule"]
    assert len(build) == 1, "expected one slicerMacroBuildScriptedModule call"
    args = build[0]
    assert args[args.index("NAME") + 1] == "${MODULE_NAME}"
    assert args[args.index("SCRIPTS") + 1] == "${MODULE_PYTHON_SCRIPTS}"
    assert args[args.index("RESOURCES") + 1] == "${MODULE_PYTHON_RESOURCES}"
    assert "WITH_GENERIC_TESTS" in args

    text = strip_cmake_comments((MODULE_DIR / "CMakeLists.txt").read_text())
    testing_block = re.search(r"if\s*\(\s*BUILD_TESTING\s*\)(.*?)endif\s*\(", text, re.S)
    assert testing_block, "no if(BUILD_TESTING) block"
    block = testing_block.group(1)
    assert re.search(r"slicer_add_python_unittest\s*\(\s*SCRIPT\s+\$\{MODULE_NAME\}\.py\s*\)",
                     block)
    assert re.search(r"add_subdirectory\s*\(\s*Testing\s*\)", block)


def test_testing_cmake_files_follow_slicer_convention():
    testing = strip_cmake_comments((MODULE_DIR / "Testing" / "CMakeLists.txt").read_text())
    assert re.search(r"if\s*\(\s*BUILD_TESTING\s*\)\s*add_subdirectory\s*\(\s*Python\s*\)",
                     testing)
    python = strip_cmake_comments(
        (MODULE_DIR / "Testing" / "Python" / "CMakeLists.txt").read_text())
    assert "slicer_add_python_unittest" in python


def test_every_core_python_file_is_installed_with_the_module():
    literals, patterns = listed_files(module_commands(), "MODULE_PYTHON_SCRIPTS")
    assert is_listed("QMRIMapping.py", literals, patterns)
    core_files = sorted(p.relative_to(MODULE_DIR).as_posix() for p in LIB_DIR.rglob("*.py")
                        if "__pycache__" not in p.parts)
    assert "QMRIMappingLib/__init__.py" in core_files
    missing = [f for f in core_files if not is_listed(f, literals, patterns)]
    assert not missing, f"not in MODULE_PYTHON_SCRIPTS: {missing}"


def test_core_data_files_are_installed_as_resources():
    literals, patterns = listed_files(module_commands(), "MODULE_PYTHON_RESOURCES")
    data_files = sorted(p.relative_to(MODULE_DIR).as_posix() for suffix in ("json", "yaml")
                        for p in LIB_DIR.rglob(f"*.{suffix}"))
    missing = [f for f in data_files if not is_listed(f, literals, patterns)]
    assert not missing, f"not in MODULE_PYTHON_RESOURCES: {missing}"


def test_module_resources_exist():
    literals, _ = listed_files(module_commands(), "MODULE_PYTHON_RESOURCES")
    assert "Resources/Icons/QMRIMapping.png" in literals
    assert "Resources/UI/QMRIMapping.ui" in literals
    for resource in literals:
        assert (MODULE_DIR / resource).is_file(), f"resource {resource} does not exist"
    assert png_size(MODULE_DIR / "Resources" / "Icons" / "QMRIMapping.png") == (128, 128)


def test_coverage_check_itself_notices_missing_files():
    """The checks above must be able to fail: a list without the core misses its files."""
    only_module = cmake_commands("set(MODULE_NAME QMRIMapping)\n"
                                 "set(MODULE_PYTHON_SCRIPTS\n  ${MODULE_NAME}.py\n  )\n"
                                 "# set(MODULE_PYTHON_SCRIPTS QMRIMappingLib/roi.py)\n")
    literals, patterns = listed_files(only_module, "MODULE_PYTHON_SCRIPTS")
    assert is_listed("QMRIMapping.py", literals, patterns)
    assert not is_listed("QMRIMappingLib/roi.py", literals, patterns)

    flat_glob = cmake_commands("file(GLOB LIB RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} "
                               "${CMAKE_CURRENT_SOURCE_DIR}/QMRIMappingLib/*.py)\n"
                               "set(MODULE_PYTHON_SCRIPTS QMRIMapping.py ${LIB})")
    literals, patterns = listed_files(flat_glob, "MODULE_PYTHON_SCRIPTS")
    assert is_listed("QMRIMappingLib/roi.py", literals, patterns)
    assert not is_listed("QMRIMappingLib/fitting/nlls.py", literals, patterns)


# --- the core stays free of Qt and of the Slicer application --------------------------------

FORBIDDEN_MODULES = {"qt", "ctk", "PythonQt"}
FORBIDDEN_SLICER_ATTRIBUTES = {"app", "mrmlScene", "util"}


def gui_dependencies(source: str, filename: str = "<source>") -> list[str]:
    """Uses of Qt, CTK or Slicer's application objects in a piece of Python source.

    Plain ``import slicer`` stays allowed (MRML logic may need it later); what is
    forbidden is anything that only exists in a running Slicer application:
    ``slicer.app``, ``slicer.mrmlScene`` and ``slicer.util``, however they are reached.
    """
    tree = ast.parse(source, filename=filename)
    found = []
    slicer_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in FORBIDDEN_MODULES:
                    found.append(f"line {node.lineno}: import {alias.name}")
                elif parts[0] == "slicer":
                    if len(parts) > 1 and parts[1] in FORBIDDEN_SLICER_ATTRIBUTES:
                        found.append(f"line {node.lineno}: import {alias.name}")
                    slicer_names.add(alias.asname or "slicer")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] in FORBIDDEN_MODULES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            elif parts[0] == "slicer":
                if len(parts) > 1 and parts[1] in FORBIDDEN_SLICER_ATTRIBUTES:
                    found.append(f"line {node.lineno}: from {node.module} import ...")
                elif len(parts) == 1:
                    found += [f"line {node.lineno}: from slicer import {alias.name}"
                              for alias in node.names
                              if alias.name in FORBIDDEN_SLICER_ATTRIBUTES | {"*"}]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in slicer_names
                and node.attr in FORBIDDEN_SLICER_ATTRIBUTES):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_core_library_has_no_gui_or_application_dependencies():
    files = sorted(p for p in LIB_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    assert LIB_DIR / "geometry.py" in files
    problems = {}
    for path in files:
        found = gui_dependencies(path.read_text(encoding="utf-8"), str(path))
        if found:
            problems[path.relative_to(ROOT).as_posix()] = found
    assert not problems, f"the core must not use Qt, CTK or the Slicer application: {problems}"


@pytest.mark.parametrize("source", [
    "import qt",
    "import ctk as c",
    "from qt import QWidget",
    "import slicer.util",
    "from slicer.util import getNode",
    "from slicer import app",
    "from slicer import *",
    "import slicer\nscene = slicer.mrmlScene",
    "import slicer as s\ndef f():\n    return s.app.applicationVersion",
    "def f():\n    import slicer\n    slicer.util.loadVolume('x')",
])
def test_gui_dependency_scan_finds_violations(source):
    assert gui_dependencies(source)


@pytest.mark.parametrize("source", [
    "import slicer\nnode = slicer.vtkMRMLScalarVolumeNode()",
    "import numpy as np\nutil = np.zeros(3)\napp = util.sum()",
    "from . import util",
])
def test_gui_dependency_scan_allows_plain_slicer_and_lookalikes(source):
    assert not gui_dependencies(source)
