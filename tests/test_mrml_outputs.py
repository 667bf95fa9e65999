"""Map, SD, R² and status nodes, colour tables, statistics table, decay plots, hierarchy."""

from __future__ import annotations

import numpy as np
import pytest

from QMRIMappingLib.fitting import STATUS_DESCRIPTIONS, FitStatus
from QMRIMappingLib.mapping import compute_maps
from QMRIMappingLib.mapping_input import MappingInput, WeightedImage
from QMRIMappingLib.mrml import colors, hierarchy, outputs, plots, tables, volumes

from .mrml_fixtures import oblique_geometry, scene  # noqa: F401

TIMES = (0.0, 10.0, 30.0, 50.0)


@pytest.fixture
def synthetic():
    """An oblique 12x10x3 grid with T = 40 ms inside a block, fitted by NLLS."""
    geometry = oblique_geometry((12, 10, 3))
    truth = np.full(geometry.array_shape, 40.0)
    truth[:, :, :3] = 25.0
    roi = np.zeros(geometry.array_shape, bool)
    roi[1, 3:8, 5:10] = True
    rng = np.random.default_rng(5)
    images = [WeightedImage(
        data=(1000 * np.exp(-t / truth) + rng.normal(0, 2, truth.shape)).astype(np.float32),
        time_ms=t, role="shared" if t == 0 else "t1rho", source=f"TSL {t:g}",
        geometry=geometry) for t in TIMES]
    mapping_input = MappingInput(images=images, kind="prepared", source="synthetic")
    outcome = compute_maps(mapping_input, "nlls")["T1rho"]
    return geometry, mapping_input, outcome, roi


def test_map_nodes_match_the_input_grid_and_say_what_they_hold(scene, synthetic):  # noqa: F811
    geometry, _, outcome, roi = synthetic
    group = outputs.add_map_nodes(scene, outcome, geometry, "nlls", roi=roi)

    assert [node.GetName() for node in group.all()] == [
        "T1rho NLLS", "T1rho NLLS SD", "T1rho NLLS R2", "T1rho NLLS status"]
    for node in group.all():
        assert geometry.mismatch(volumes.geometry_from_node(node)) is None
        assert node.GetAttribute("QMRI.Map") == "T1rho"
        assert node.GetAttribute("QMRI.Method") == "nlls"
    assert np.allclose(volumes.array_from_node(group.value), outcome.result.t_ms, equal_nan=True)
    assert np.allclose(volumes.array_from_node(group.sd), outcome.result.sd_ms, equal_nan=True)
    assert group.value.GetAttribute("QMRI.Unit") == "ms"
    assert group.value.GetVoxelValueUnits().GetCodeValue() == "ms"
    assert group.value.GetVoxelValueUnits().GetCodingSchemeDesignator() == "UCUM"
    assert group.sd.GetAttribute("QMRI.SdKind") in ("cramer-rao", "covariance")
    assert group.status.IsA("vtkMRMLLabelMapVolumeNode")
    assert np.array_equal(volumes.array_from_node(group.status), outcome.result.status)

    display = group.value.GetDisplayNode()
    assert display.GetColorNodeID() == colors.relaxation_color_node(scene).GetID()
    low, high = display.GetWindowLevelMin(), display.GetWindowLevelMax()
    assert low < 40.0 < high and high - low < 200.0
    assert not display.GetAutoWindowLevel()


def test_colour_tables_are_created_once_and_name_the_status_codes(scene):  # noqa: F811
    first = colors.relaxation_color_node(scene)
    assert colors.relaxation_color_node(scene) is first
    assert first.GetNumberOfColors() == 256
    status = colors.status_color_node(scene)
    assert status.GetNumberOfColors() == len(FitStatus)
    for code in FitStatus:
        assert status.GetColorName(int(code)) == STATUS_DESCRIPTIONS[code]
    rgba = [0.0] * 4
    status.GetColor(int(FitStatus.OUTSIDE_MASK), rgba)
    assert rgba[3] == 0.0, "voxels outside the mask stay transparent"


def test_statistics_table_holds_roi_numbers_and_rmae(scene, synthetic):  # noqa: F811
    _, _, outcome, roi = synthetic
    reference = np.where(np.isfinite(outcome.result.t_ms), 40.0, np.nan)
    row = tables.statistics_row("T1rho", "NLLS", outcome.result.t_ms, roi, "ROI", reference,
                                "truth")
    table = tables.add_statistics_table(scene, [row], "QMRI statistics NLLS")
    back = tables.table_rows(table)[0]
    assert back["Map"] == "T1rho" and back["Reference"] == "truth"
    assert back["Count"] == roi.sum()
    assert back["Mean"] == pytest.approx(np.nanmean(outcome.result.t_ms[roi]))
    assert back["Median"] == pytest.approx(np.nanmedian(outcome.result.t_ms[roi]))
    assert 0.0 < back["RMAE"] < 5.0
    assert table.GetColumnUnitLabel("Mean") == "ms"
    assert table.GetColumnUnitLabel("RMAE") == "%"


def test_decay_plot_has_roi_and_voxel_series(scene, synthetic):  # noqa: F811
    geometry, mapping_input, outcome, roi = synthetic
    plot = plots.add_decay_plot(scene, outcome, mapping_input.images, roi, "NLLS",
                                voxel=(1, 4, 6))
    assert plot.chart.GetNumberOfPlotSeriesNodes() == 4
    measured = tables.table_rows(plot.points_table)
    assert [row["Time (ms)"] for row in measured] == list(TIMES)
    roi_signal = np.stack([image.data for image in mapping_input.images])[:, roi].mean(axis=1)
    assert np.allclose([row["ROI mean"] for row in measured], roi_signal, rtol=1e-5)
    voxel_signal = [row["Voxel"] for row in measured]
    assert np.allclose(voxel_signal, [image.data[1, 4, 6] for image in mapping_input.images],
                       rtol=1e-5)
    curves = tables.table_rows(plot.curve_table)
    fitted = [row["Voxel fit"] for row in curves]
    assert fitted[0] == pytest.approx(float(outcome.result.s0[1, 4, 6]), rel=1e-4)

    centre = geometry.ijk_to_ras() @ np.array([2.0, 3.0, 0.0, 1.0])
    assert plots.voxel_from_ras(geometry, centre[:3]) == (0, 3, 2)
    assert plots.voxel_from_ras(geometry, (1e4, 0.0, 0.0)) is None
    plot.set_voxel(None)
    assert all(np.isnan(row["Voxel"]) for row in tables.table_rows(plot.points_table))


def test_results_go_under_the_inputs_study(scene, synthetic):  # noqa: F811
    geometry, _, outcome, _ = synthetic
    images = volumes.add_volume_node(scene, np.zeros(geometry.array_shape, np.float32),
                                     geometry, "input")
    study = hierarchy.ensure_study(scene, [images], "Patient A", "Liver study")
    assert hierarchy.study_of(scene, images) == study
    assert hierarchy.ensure_study(scene, [images]) == study, "an existing study is reused"
    folder = hierarchy.create_folder(scene, study, "QMRI maps NLLS")
    group = outputs.add_map_nodes(scene, outcome, geometry, "nlls")
    for node in group.all():
        hierarchy.place(scene, node, folder)
    sh = hierarchy.hierarchy(scene)
    for node in group.all():
        assert hierarchy.study_of(scene, node) == study
    assert sh.GetItemName(sh.GetItemParent(study)) == "Patient A"
