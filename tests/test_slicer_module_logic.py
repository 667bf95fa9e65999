"""The module's Logic (console API) and self-test, run against real MRML from slicer-core.

Only the application parts are stand-ins (see ``slicer_stubs.apply_mrml_stubs``): the scene,
nodes, segmentations logic, storage and subject hierarchy are Slicer's own classes.
"""

from __future__ import annotations

import numpy as np
import pytest

from QMRIMappingLib.mrml import tables, volumes
from QMRIMappingLib.mrml.scene import new_scene

from .mrml_fixtures import dciodvfy_errors, phantom_dicom  # noqa: F401
from .slicer_stubs import apply_mrml_stubs, load_module_script


@pytest.fixture
def module(monkeypatch):
    scene = new_scene()
    apply_mrml_stubs(monkeypatch, scene)
    loaded = load_module_script("QMRIMapping_with_mrml")
    loaded.scene = scene
    return loaded


def test_console_run_from_a_dicom_folder(module, phantom_dicom, tmp_path):  # noqa: F811
    subject, folder = phantom_dicom
    logic = module.QMRIMappingLogic()
    seen = []
    result = logic.run(folder / "images", roi=folder / "ground_truth" / "roi.nii.gz",
                       method="two-point", reference="nlls",
                       progressCallback=lambda fraction, message: seen.append(fraction))
    assert seen[-1] == 1.0
    assert result.maps["T1rho"].value.GetName() == "T1rho two-point"
    assert set(result.reference_maps) == {"T1rho", "T2"}, "NLLS was computed as reference"
    assert module.scene.GetFirstNodeByName("T2 NLLS SD") is not None
    rows = tables.table_rows(result.table)
    assert all(row["Reference"] == "NLLS" and row["RMAE"] < 15 for row in rows)

    written = logic.exportResult(result, tmp_path, ("nrrd", "dicom-pm", "seg-nrrd"))
    assert dciodvfy_errors(written["T1rho two-point dicom-pm"]) == []
    bundle = logic.saveBundle(tmp_path / "scene.mrb")
    assert bundle.is_file()


def test_console_run_with_volume_nodes_times_and_roles(module, phantom_dicom):  # noqa: F811
    subject, _ = phantom_dicom
    scene = module.scene
    nodes = [volumes.add_volume_node(scene, image.data, image.geometry, f"image {index}")
             for index, image in enumerate(subject.images)]
    logic = module.QMRIMappingLogic()
    rows = logic.inputRowsForVolumes(nodes)
    assert all(row.time_ms is None for row in rows), "plain names carry no time"
    result = logic.run(nodes, times=[image.time_ms for image in subject.images],
                       roles=[image.role for image in subject.images], method="nlls",
                       makePlots=False)
    t1rho = volumes.array_from_node(result.maps["T1rho"].value)
    roi = subject.roi > 0
    assert abs(np.nanmean(t1rho[roi]) / subject.t1rho_ms[roi].mean() - 1) < 0.05
    assert nodes[0].GetAttribute("QMRI.TimeMs") == f"{subject.images[0].time_ms:g}"


def test_console_run_with_a_volume_sequence(module, phantom_dicom):  # noqa: F811
    subject, _ = phantom_dicom
    scene = module.scene
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "weighted images")
    sequence.SetIndexName("preparation time")
    sequence.SetIndexUnit("ms")
    sequence.SetIndexType(sequence.NumericIndex)
    scratch = new_scene()
    for index, image in enumerate(subject.images):
        node = volumes.add_volume_node(scratch, image.data, image.geometry, f"frame {index}",
                                       display=False)
        sequence.SetDataNodeAtValue(node, f"{image.time_ms:g}")
    logic = module.QMRIMappingLogic()
    rows = logic.inputRowsForSequence(sequence)
    assert sorted(row.time_ms for row in rows) == sorted(i.time_ms for i in subject.images)
    order = {f"{image.time_ms:g}": image.role for image in subject.images}
    result = logic.run(sequence, roles=[order[row.index_value] for row in rows],
                       method="two-point", makePlots=False)
    assert result.input_nodes == [sequence]
    study = result.study_item
    from QMRIMappingLib.mrml import hierarchy

    assert hierarchy.study_of(scene, sequence) == study
    assert hierarchy.study_of(scene, result.maps["T2"].value) == study


def test_run_without_waiting_can_be_cancelled(module, phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    scene = module.scene
    logic = module.QMRIMappingLogic()
    nodes = logic.importFolder(str(folder / "images"))
    before = scene.GetNumberOfNodes()
    run = logic.run(nodes, method="nlls", waitForCompletion=False, chunkVoxels=1000)
    steps = run.steps()
    for _ in range(4):
        next(steps)
    run.cancel()
    assert scene.GetNumberOfNodes() == before


def test_plot_voxel_follows_a_ras_point(module, phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    logic = module.QMRIMappingLogic()
    result = logic.run(folder / "images", method="two-point")
    geometry = result.mapping_input.geometry
    ras = geometry.ijk_to_ras() @ np.array([20.0, 30.0, 1.0, 1.0])
    assert logic.plotVoxel(result, ras[:3]) == (1, 30, 20)
    with pytest.raises(ValueError, match="outside"):
        logic.plotVoxel(result, (1e5, 0.0, 0.0))


def test_self_test_runs_on_the_phantom(module):
    test = module.QMRIMappingTest("runTest")
    test.runTest()


def test_dependencies_and_companion_hook(module, monkeypatch):
    logic = module.QMRIMappingLogic()
    assert logic.missingPackages() == []
    assert logic.ensureDependencies(askConfirmation=False)
    assert not logic.companionRoiModuleAvailable()
    with pytest.raises(RuntimeError, match="UMSRep"):
        logic.automaticRoi(None)

    import slicer

    calls = []

    class Companion:
        def createLiverRoi(self, volume, segmentation=None):  # noqa: N802 (Slicer's style)
            calls.append((volume, segmentation))
            return "roi node"

    monkeypatch.setattr(slicer, "modules", type("Modules", (), {"umsrep": object()})())
    monkeypatch.setattr(slicer.util, "getModuleLogic", lambda name: Companion())
    assert logic.companionRoiModuleAvailable()
    assert logic.automaticRoi("volume") == "roi node" and calls == [("volume", None)]
