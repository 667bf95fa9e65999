"""UMSRep's MRML logic against real MRML (slicer-core): segmentation, probability table,
heat-map overlay, recommendation text, the QMRIMapping hand-off and the module's Logic."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from QMRIMappingLib.mrml import roi as qmri_roi
from QMRIMappingLib.mrml import volumes
from UMSRepLib.errors import UserInputError
from UMSRepLib.inference import VolumeAnalysis
from UMSRepLib.model_files import load_bundle, save_bundle
from UMSRepLib.mrml import analysis as analysis_module
from UMSRepLib.mrml.analysis import analyse_volume_node, table_rows
from UMSRepLib.mrml.display import HEAT_COLOR_NAME, set_overlay_opacity
from UMSRepLib.mrml.handoff import SOURCE_VOLUME_ATTRIBUTE, mapping_roi_node
from UMSRepLib.networks import build_model
from UMSRepLib.noise import NoiseModel
from UMSRepLib.recommendation import recommend
from UMSRepLib.tasks import DENOISE, TaskSpec

from .mrml_fixtures import oblique_geometry, scene  # noqa: F401
from .slicer_stubs import apply_mrml_stubs
from .umsrep_fixtures import LIVER, tiny_spec

MODULE_SCRIPT = Path(__file__).resolve().parents[1] / "UMSRep" / "UMSRep.py"
QUALITY3 = TaskSpec("quality", "classification", ("clean", "motion", "noise"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    spec = tiny_spec(field_of_view_mm=380.0)
    model = build_model(spec, [DENOISE, LIVER, QUALITY3])
    path = save_bundle(model, tmp_path_factory.mktemp("bundle") / "tiny", spec, NoiseModel(),
                       name="tiny-test", encoder_state="pretrained")
    return load_bundle(path)


def masks(geometry):
    liver = np.zeros(geometry.array_shape, bool)
    liver[1:3, 2:8, 2:10] = True
    roi = np.zeros_like(liver)
    roi[1:3, 3:6, 3:6] = True
    return liver, roi


def fake_analysis(geometry, suitable=True) -> VolumeAnalysis:
    liver, roi = masks(geometry)
    quality = {"clean": 0.8, "motion": 0.15, "noise": 0.05} if suitable else \
        {"clean": 0.1, "motion": 0.85, "noise": 0.05}
    heat = np.linspace(0, 1, liver.size, dtype=np.float32).reshape(liver.shape)
    return VolumeAnalysis(
        liver_probability=liver.astype(np.float32), liver_mask=liver, roi_mask=roi,
        class_probabilities={"quality": quality, "tissue": {"normal": 0.3, "fibrotic": 0.7}},
        slice_probabilities={}, heatmap=heat, heatmap_task="quality", heatmap_class="clean",
        denoised=None, recommendation=recommend(quality, int(liver.sum()), int(roi.sum()),
                                                100.0), pixel_area_mm2=100.0)


@pytest.fixture
def oblique_volume(scene):  # noqa: F811
    geometry = oblique_geometry((12, 10, 4))
    data = np.random.default_rng(0).random(geometry.array_shape).astype(np.float32)
    return volumes.add_volume_node(scene, data, geometry, "oblique MR"), geometry


def test_outputs_land_on_the_volume_grid(scene, oblique_volume, bundle, monkeypatch):  # noqa: F811
    volume, geometry = oblique_volume
    monkeypatch.setattr(analysis_module, "analyse_volume", lambda *a, **k: fake_analysis(geometry))
    composite = scene.AddNewNodeByClass("vtkMRMLSliceCompositeNode")
    nodes = analyse_volume_node(scene, volume, bundle, opacity=0.3)

    liver, roi = masks(geometry)
    names = [nodes.segmentation.GetSegmentation().GetSegment(i).GetName()
             for i in qmri_roi.segment_ids(nodes.segmentation)]
    assert names == ["Liver", "Right lobe ROI"]
    got_liver, _ = qmri_roi.mask_from_segmentation(scene, nodes.segmentation, volume, ["Liver"])
    got_roi, _ = qmri_roi.mask_from_segmentation(scene, nodes.segmentation, volume,
                                                 ["Right lobe ROI"])
    assert np.array_equal(got_liver, liver) and np.array_equal(got_roi, roi)

    rows = table_rows(nodes.table)
    assert [(r["Task"], r["Class"]) for r in rows] == [
        ("quality", "clean"), ("quality", "motion"), ("quality", "noise"),
        ("tissue", "normal"), ("tissue", "fibrotic")]
    assert [r["Predicted"] for r in rows] == [1, 0, 0, 0, 1]
    assert rows[0]["Probability"] == pytest.approx(0.8)

    heat = nodes.heatmap
    assert geometry.mismatch(volumes.geometry_from_node(heat)) is None
    assert np.allclose(volumes.array_from_node(heat), fake_analysis(geometry).heatmap)
    display = heat.GetDisplayNode()
    assert scene.GetNodeByID(display.GetColorNodeID()).GetName() == HEAT_COLOR_NAME
    assert (display.GetWindowLevelMin(), display.GetWindowLevelMax()) == (0.0, 1.0)
    assert composite.GetForegroundVolumeID() == heat.GetID()
    assert composite.GetBackgroundVolumeID() == volume.GetID()
    assert composite.GetForegroundOpacity() == pytest.approx(0.3)
    set_overlay_opacity(scene, 0.8)
    assert composite.GetForegroundOpacity() == pytest.approx(0.8)

    assert nodes.text.GetText() == nodes.recommendation
    assert nodes.recommendation.startswith("suitable for mapping")
    assert nodes.table.GetAttribute("UMSRep.Suitable") == "true"


def test_rerun_reuses_the_output_nodes(scene, oblique_volume, bundle, monkeypatch):  # noqa: F811
    volume, geometry = oblique_volume
    monkeypatch.setattr(analysis_module, "analyse_volume", lambda *a, **k: fake_analysis(geometry))
    first = analyse_volume_node(scene, volume, bundle)
    count = scene.GetNumberOfNodes()
    monkeypatch.setattr(analysis_module, "analyse_volume",
                        lambda *a, **k: fake_analysis(geometry, suitable=False))
    second = analyse_volume_node(scene, volume, bundle, segmentation_node=first.segmentation,
                                 table_node=first.table, heatmap_node=first.heatmap,
                                 text_node=first.text)
    assert scene.GetNumberOfNodes() == count
    assert second.segmentation is first.segmentation
    assert len(qmri_roi.segment_ids(second.segmentation)) == 2
    assert "motion artefact likely" in second.text.GetText()
    assert second.table.GetAttribute("UMSRep.Suitable") == "false"


def test_real_bundle_runs_on_a_volume_node(scene, bundle):  # noqa: F811
    from QMRIMappingLib.phantom import generate_subject

    subject = generate_subject(2, matrix=64, n_slices=2, snr=60.0)
    volume = volumes.add_volume_node(scene, subject.images[0].data, subject.geometry, "shared")
    nodes = analyse_volume_node(scene, volume, bundle, show=False)
    assert len(table_rows(nodes.table)) == 3
    assert nodes.heatmap is not None
    assert subject.geometry.mismatch(volumes.geometry_from_node(nodes.heatmap)) is None
    assert nodes.text.GetText() == nodes.analysis.recommendation.reason
    assert nodes.segmentation.IsA("vtkMRMLSegmentationNode")


def test_mapping_roi_node_holds_only_the_roi(scene, oblique_volume):  # noqa: F811
    volume, geometry = oblique_volume
    _, roi = masks(geometry)
    node = mapping_roi_node(scene, volume, roi, "liver_mr")
    assert [node.GetSegmentation().GetSegment(i).GetName()
            for i in qmri_roi.segment_ids(node)] == ["Right lobe ROI"]
    mask, description = qmri_roi.mask_from_segmentation(scene, node, volume)
    assert np.array_equal(mask, roi) and f"{roi.sum()} voxels" in description
    assert node.GetAttribute(SOURCE_VOLUME_ATTRIBUTE) == volume.GetID()
    assert "UMSRep model liver_mr" in node.GetAttribute("QMRI.RoiSource")
    again = mapping_roi_node(scene, volume, roi, "liver_mr", segmentation_node=node)
    assert again is node and len(qmri_roi.segment_ids(node)) == 1
    with pytest.raises(UserInputError, match="no liver ROI"):
        mapping_roi_node(scene, volume, np.zeros_like(roi), "liver_mr")


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, MODULE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def module(monkeypatch, scene):  # noqa: F811
    apply_mrml_stubs(monkeypatch, scene)
    loaded = load_script("UMSRep_with_mrml")
    loaded.scene = scene
    return loaded


def test_module_logic_keeps_the_qmrimapping_contract(module, bundle, monkeypatch):
    import types

    import slicer

    mrml_scene = module.scene
    geometry = oblique_geometry((12, 10, 4))
    volume = volumes.add_volume_node(mrml_scene, np.ones(geometry.array_shape, np.float32),
                                     geometry, "volume")
    logic = module.UMSRepLogic()
    logic._bundles["liver_mr"] = bundle
    import UMSRepLib.inference as inference

    monkeypatch.setattr(inference, "analyse_volume", lambda *a, **k: fake_analysis(geometry))
    monkeypatch.setattr(analysis_module, "analyse_volume", lambda *a, **k: fake_analysis(geometry))
    roi_node = logic.createLiverRoi(volume)  # what QMRIMappingLogic.automaticRoi calls
    assert roi_node.GetSegmentation().GetNumberOfSegments() == 1
    assert roi_node.GetSegmentation().GetNthSegment(0).GetName() == "Right lobe ROI"

    analysis = logic.analyze(volume)
    assert analysis.recommendation.startswith("suitable")
    mapping_parameters = types.SimpleNamespace(roiSegmentation=None)
    mapping_logic = types.SimpleNamespace(getParameterNode=lambda: mapping_parameters)
    monkeypatch.setattr(slicer, "modules", types.SimpleNamespace(qmrimapping=object()))
    monkeypatch.setattr(slicer.util, "getModuleLogic",
                        lambda name: mapping_logic if name == "QMRIMapping" else None)
    handed = logic.useAsRoiInQMRIMapping(analysis)
    assert mapping_parameters.roiSegmentation is handed
    assert handed.GetSegmentation().GetNumberOfSegments() == 1
