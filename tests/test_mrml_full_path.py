"""The whole path on a phantom subject against real MRML (slicer-core):

DICOM folder -> volume nodes -> drawn ROI segmentation -> NLLS and two-point maps with
uncertainty, R², status, statistics table (RMAE against NLLS) and decay plots under the
input's study -> .mrb -> reload -> DICOM Parametric Map that dciodvfy accepts. Also: a
cancelled or failed run leaves the scene as it found it.
"""

from __future__ import annotations

import numpy as np
import pytest
import vtk

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.exports import write_parametric_map
from QMRIMappingLib.mrml import hierarchy, inputs, roi, session, tables, volumes
from QMRIMappingLib.mrml import scene as mrml_scene
from QMRIMappingLib.mrml.exports import export_result

from .mrml_fixtures import dciodvfy_errors, phantom_dicom  # noqa: F401


def scene_state(scene) -> tuple[int, int]:
    sh = hierarchy.hierarchy(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return scene.GetNumberOfNodes(), ids.GetNumberOfIds()


@pytest.fixture(scope="module")
def mapped(phantom_dicom, tmp_path_factory):  # noqa: F811
    """Import, draw the ROI, map with NLLS then two-point (RMAE against NLLS)."""
    subject, folder = phantom_dicom
    scene = mrml_scene.new_scene()
    nodes, mapping_input = inputs.import_folder(scene, folder / "images")
    geometry = volumes.geometry_from_node(nodes[0])
    segmentation = roi.segmentation_from_mask(scene, subject.roi > 0, geometry, "Liver ROI")
    rows = inputs.rows_for_nodes(nodes)
    nlls_run = session.MappingRun(scene, session.MappingRequest(
        rows=rows, method="nlls", roi_node=segmentation, chunk_voxels=1500))
    progress = [step.fraction for step in nlls_run.steps()]
    two_point = session.MappingRun(scene, session.MappingRequest(
        rows=inputs.rows_for_nodes(nodes), method="two-point", roi_node=segmentation,
        reference="nlls")).run()
    return {"subject": subject, "folder": folder, "scene": scene, "nodes": nodes,
            "segmentation": segmentation, "nlls": nlls_run.result, "two_point": two_point,
            "progress": progress, "tmp": tmp_path_factory.mktemp("full-path")}


def test_import_gives_one_node_per_series_with_time_and_role(mapped):
    nodes = mapped["nodes"]
    found = sorted((node.GetAttribute("QMRI.Role"), float(node.GetAttribute("QMRI.TimeMs")))
                   for node in nodes)
    assert found == sorted([("shared", 0.0), ("t1rho", 10.0), ("t1rho", 30.0),
                            ("t1rho", 50.0), ("t2", 18.2), ("t2", 34.6), ("t2", 51.0)])
    assert all(node.GetAttribute("QMRI.SourceFiles") for node in nodes)
    scene = mapped["scene"]
    study = hierarchy.study_of(scene, nodes[0])
    assert study and all(hierarchy.study_of(scene, node) == study for node in nodes)
    assert mapped["subject"].geometry.mismatch(volumes.geometry_from_node(nodes[0])) is None


def test_guessed_rows_match_the_importer(mapped):
    guessed = inputs.guess_time_and_role("WIP T1rho_TSL30ms SENSE")
    assert guessed[:2] == (30.0, "t1rho")
    assert inputs.guess_time_and_role("WIP T1rho_T2prep TSL0 TP0 SENSE")[:2] == (0.0, "shared")
    assert inputs.guess_time_and_role("MRHead")[:2] == (None, None)


def test_maps_uncertainty_and_table_on_the_input_grid(mapped):
    result, subject = mapped["nlls"], mapped["subject"]
    progress = mapped["progress"]
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) > 5
    assert set(result.maps) == {"T1rho", "T2"}
    geometry = subject.geometry
    roi_mask = subject.roi > 0
    assert np.array_equal(result.roi_mask, roi_mask)
    for name, truth in (("T1rho", subject.t1rho_ms), ("T2", subject.t2_ms)):
        group = result.maps[name]
        assert group.value.GetName() == f"{name} NLLS"
        assert group.sd.GetName() == f"{name} NLLS SD"
        for node in group.all():
            assert geometry.mismatch(volumes.geometry_from_node(node)) is None
        values = volumes.array_from_node(group.value)
        assert abs(np.nanmean(values[roi_mask]) / np.mean(truth[roi_mask]) - 1) < 0.05
        sd = volumes.array_from_node(group.sd)[roi_mask]
        assert np.all(np.isfinite(sd)) and 0 < np.median(sd) < 10
        assert np.nanmedian(volumes.array_from_node(group.r2)[roi_mask]) > 0.95
    rows = tables.table_rows(result.table)
    assert [row["Map"] for row in rows] == ["T1rho", "T2"]
    assert all(row["Count"] == roi_mask.sum() for row in rows)
    assert all(row["Reference"] == "" for row in rows)


def test_two_point_rmae_uses_the_nlls_maps_already_in_the_scene(mapped):
    result = mapped["two_point"]
    assert result.reference_maps == {}, "the NLLS maps of the same inputs are reused"
    for row in tables.table_rows(result.table):
        assert row["Reference"] == "NLLS"
        assert 0.0 < row["RMAE"] < 15.0
    assert result.maps["T1rho"].value.GetName() == "T1rho two-point"


def test_results_sit_under_the_inputs_study_with_plots(mapped):
    scene, result = mapped["scene"], mapped["nlls"]
    study = hierarchy.study_of(scene, mapped["nodes"][0])
    sh = hierarchy.hierarchy(scene)
    assert sh.GetItemParent(result.folder_item) == study
    assert sh.GetItemName(result.folder_item) == "QMRI maps NLLS"
    for node in result.nodes():
        assert hierarchy.study_of(scene, node) == study, node.GetName()
    plot = result.plots["T1rho"]
    assert plot.voxel is not None and result.roi_mask[plot.voxel]
    assert plot.chart.GetNumberOfPlotSeriesNodes() == 4


def test_mrb_round_trip_then_dicom_parametric_map(mapped):
    scene, tmp = mapped["scene"], mapped["tmp"]
    path = mrml_scene.save_mrb(scene, tmp / "session.mrb")
    reloaded = mrml_scene.load_mrb(path)

    value = reloaded.GetFirstNodeByName("T1rho NLLS")
    original = mapped["nlls"].maps["T1rho"].value
    assert value.GetAttribute("QMRI.Unit") == "ms"
    assert np.allclose(volumes.array_from_node(value), volumes.array_from_node(original),
                       equal_nan=True)
    geometry = volumes.geometry_from_node(value)
    assert geometry.mismatch(volumes.geometry_from_node(original)) is None
    assert value.GetDisplayNode().GetColorNode().GetName() == "QMRI relaxation (ms)"
    status = reloaded.GetFirstNodeByName("T1rho NLLS status")
    assert status.GetDisplayNode().GetColorNode().GetName() == "QMRI fit status"
    table = reloaded.GetFirstNodeByName("QMRI statistics two-point")
    assert [row["Reference"] for row in tables.table_rows(table)] == ["NLLS", "NLLS"]
    chart = reloaded.GetFirstNodeByName("T2 NLLS decay")
    assert chart.GetNumberOfPlotSeriesNodes() == 4
    segmentation = reloaded.GetFirstNodeByName("Liver ROI")
    assert roi.segment_ids(segmentation)
    shared = [node for node in mrml_scene.nodes_by_class(reloaded, "vtkMRMLScalarVolumeNode")
              if node.GetAttribute("QMRI.Role") == "shared"][0]
    assert hierarchy.study_of(reloaded, value) == hierarchy.study_of(reloaded, shared) != 0

    files = shared.GetAttribute("QMRI.SourceFiles").split("\n")
    pm = write_parametric_map(volumes.array_from_node(value), geometry, files,
                              tmp / "T1rho_NLLS.pm.dcm", "T1rho", "NLLS")
    assert dciodvfy_errors(pm) == []


def test_export_result_writes_every_format(mapped):
    written = export_result(mapped["two_point"], mapped["tmp"] / "export")
    names = set(written)
    assert {"T1rho two-point nrrd", "T2 two-point SD nifti", "T1rho two-point dicom-pm",
            "ROI seg-nrrd", "ROI dicom-seg"} <= names
    for key in ("T1rho two-point dicom-pm", "T2 two-point dicom-pm", "ROI dicom-seg"):
        assert dciodvfy_errors(written[key]) == []


def test_cancel_leaves_the_scene_as_it_was(mapped):
    scene = mapped["scene"]
    before = scene_state(scene)
    attributes = [node.GetAttribute("QMRI.TimeMs") for node in mapped["nodes"]]
    rows = inputs.rows_for_nodes(mapped["nodes"])
    rows[1].time_ms = 12.5  # edited in the table; must not reach the node when cancelled
    run = session.MappingRun(scene, session.MappingRequest(
        rows=rows, method="nlls", roi_file=mapped["folder"] / "ground_truth" / "roi.nii.gz",
        chunk_voxels=500))
    steps = run.steps()
    for _ in range(4):
        next(steps)
    assert scene_state(scene) != before, "the ROI file was loaded as a node"
    run.cancel()
    assert scene_state(scene) == before
    assert [node.GetAttribute("QMRI.TimeMs") for node in mapped["nodes"]] == attributes


def test_cancel_during_node_creation_and_import(phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    scene = mrml_scene.new_scene()
    before = scene_state(scene)
    run = session.MappingRun(scene, session.MappingRequest(folder=folder / "images",
                                                          method="two-point"))
    steps = run.steps()
    for progress in steps:
        if progress.message.startswith("ROI statistics"):
            break
    assert scene.GetFirstNodeByName("T1rho two-point") is not None
    run.cancel()
    assert scene_state(scene) == before


def test_abandoning_a_run_cancels_it_but_not_a_finished_one(phantom_dicom):  # noqa: F811
    subject, folder = phantom_dicom
    scene = mrml_scene.new_scene()
    before = scene_state(scene)
    run = session.MappingRun(scene, session.MappingRequest(folder=folder / "images",
                                                          method="two-point"))
    steps = run.steps()
    next(steps)
    next(steps)
    steps.close()
    assert scene_state(scene) == before
    run = session.MappingRun(scene, session.MappingRequest(folder=folder / "images",
                                                          method="two-point",
                                                          make_plots=False))
    steps = run.steps()
    for progress in steps:
        if progress.fraction == 1.0:
            break
    steps.close()
    assert run.result is not None and scene.GetFirstNodeByName("T2 two-point") is not None


def test_a_failing_run_rolls_back(mapped):
    scene = mapped["scene"]
    before = scene_state(scene)
    rows = inputs.rows_for_nodes(mapped["nodes"])
    wrong = volumes.add_volume_node(scene, np.zeros((1, 2, 2), np.float32),
                                    volumes.geometry_from_ijk_to_ras(np.eye(4), (2, 2, 1)),
                                    "wrong grid")
    before = scene_state(scene)
    run = session.MappingRun(scene, session.MappingRequest(
        rows=rows, method="two-point", reference={"T1rho": wrong, "T2": wrong}))
    with pytest.raises(UserInputError, match="another grid"):
        run.run()
    assert scene_state(scene) == before
    scene.RemoveNode(wrong)


def test_bad_rows_are_refused_with_a_message(mapped):
    rows = inputs.rows_for_nodes(mapped["nodes"])
    rows[0].time_ms = None
    with pytest.raises(UserInputError, match="no preparation time"):
        inputs.mapping_input_from_rows(rows)
    rows = inputs.rows_for_nodes(mapped["nodes"])
    for row in rows:
        row.role = "t1rho" if row.role != "t2" else "t2"
    with pytest.raises(UserInputError, match="same time"):
        inputs.mapping_input_from_rows(rows[:1] + rows[1:] + [rows[1]])


def test_network_method_maps_through_the_scene_with_rmae_against_nlls(mapped):
    """The pretrained HOMOU model runs through the same session path as NLLS."""
    scene, nodes, subject = mapped["scene"], mapped["nodes"], mapped["subject"]
    result = session.MappingRun(scene, session.MappingRequest(
        rows=inputs.rows_for_nodes(nodes), method="network", model="homou",
        roi_node=mapped["segmentation"], reference="nlls")).run()
    roi_mask = subject.roi > 0
    for name, truth in (("T1rho", subject.t1rho_ms), ("T2", subject.t2_ms)):
        group = result.maps[name]
        assert group.value.GetName() == f"{name} network homou"
        assert subject.geometry.mismatch(volumes.geometry_from_node(group.value)) is None
        values = volumes.array_from_node(group.value)[roi_mask]
        error = np.abs(values - truth[roi_mask]) / truth[roi_mask]
        assert np.median(error) < 0.1
    rows = tables.table_rows(result.table)
    assert [row["Map"] for row in rows] == ["T1rho", "T2"]
    assert all(row["Reference"] for row in rows) and all(np.isfinite(row["RMAE"]) for row in rows)


def test_heteu_network_adds_an_uncertainty_node(mapped):
    scene, nodes, subject = mapped["scene"], mapped["nodes"], mapped["subject"]
    result = session.MappingRun(scene, session.MappingRequest(
        rows=inputs.rows_for_nodes(nodes), method="network", model="heteu",
        roi_node=mapped["segmentation"])).run()
    for name in ("T1rho", "T2"):
        group = result.maps[name]
        assert group.uncertainty is not None
        assert group.uncertainty.GetName() == f"{name} network heteu uncertainty"
        scale = volumes.array_from_node(group.uncertainty)[subject.roi > 0]
        assert np.all(np.isfinite(scale)) and np.all(scale > 0)
        assert subject.geometry.mismatch(volumes.geometry_from_node(group.uncertainty)) is None
    assert mapped["nlls"].maps["T1rho"].uncertainty is None
