"""``qmri evaluate`` on a tiny config: trains its tiny networks, writes every file."""

from __future__ import annotations

import csv
import json

import yaml

from QMRIMappingLib.cli import main
from QMRIMappingLib.evaluation.recipes import DESIGN_ROWS
from tests.network_fixtures import write_config


def test_tiny_evaluation_writes_tables_figures_and_report(tmp_path, capsys):
    write_config(tmp_path, "base.yaml", data={"subjects": 2, "matrix": 64, "slices": 1,
                                              "crop": 32})
    config = tmp_path / "evaluation.yaml"
    config.write_text(yaml.safe_dump({
        "out": str(tmp_path / "out"), "models_dir": str(tmp_path / "models"),
        "base_config": "base.yaml", "installed": [],
        "test": {"subjects": 1, "snr": 30, "slices": 1, "matrix": 64, "motion_mm": 2.0,
                 "pair": [30, 34.6]},
        "snr_sweep": [30], "label_noise_draws": 2, "speed": {"slices": 1, "repeats": 1},
        "experiments": ["comparison", "speed"]}))
    code = main(["evaluate", "--config", str(config), "--quiet"])
    output = capsys.readouterr()
    assert code == 0, output.err
    out = tmp_path / "out"
    for name in ("report.md", "table2a_vs_nlls.csv", "table2b_vs_gt.md", "regions_vs_gt.csv",
                 "snr_sweep_vs_gt.csv", "input_pairs_vs_gt.csv", "targets.csv", "speed.csv",
                 "networks.csv", "example_maps.png", "results.json"):
        assert (out / name).is_file(), name
    with open(out / "table2b_vs_gt.csv", newline="") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert {"Two-point", "STSM", "ST", "SL", "Baseline", "Baseline+HETEU", "Baseline+HOMOU",
            "NLLS (4+4)"} <= set(rows)
    assert all(float(row["T1rho RMAE %"]) > 0 for row in rows.values())
    report = (out / "report.md").read_text()
    assert "Reproduce: `qmri evaluate --config" in report and "Noise floor" in report
    with open(out / "speed.csv", newline="") as handle:
        speeds = {row["method"]: float(row["ms per slice"]) for row in csv.DictReader(handle)}
    assert any(name.startswith("network") for name in speeds)
    # a second run reuses the trained networks instead of training again
    code = main(["evaluate", "--config", str(config), "--quiet"])
    assert code == 0 and "training" not in capsys.readouterr().out


def test_tiny_seed_and_design_ablations(tmp_path, capsys):
    """The seed and design experiments train their variants and report every row."""
    write_config(tmp_path, "base.yaml", data={"subjects": 2, "matrix": 64, "slices": 1,
                                              "crop": 32})
    config = tmp_path / "evaluation.yaml"
    config.write_text(yaml.safe_dump({
        "out": str(tmp_path / "out"), "models_dir": str(tmp_path / "models"),
        "base_config": "base.yaml", "installed": [], "seeds": [3],
        "design_long_epochs": 2, "t2_loss_scales": [100],
        "test": {"subjects": 1, "snr": 30, "slices": 1, "matrix": 64, "motion_mm": 2.0,
                 "pair": [30, 34.6]},
        "experiments": ["seeds", "design"]}))
    code = main(["evaluate", "--config", str(config), "--quiet"])
    assert code == 0, capsys.readouterr().err
    out = tmp_path / "out"
    with open(out / "seeds_homou_vs_baseline.csv", newline="") as handle:
        seeds = {row["training seed"]: row for row in csv.DictReader(handle)}
    assert set(seeds) == {"0", "3", "mean", "SD"}
    for task in ("T1rho", "T2"):
        difference = float(seeds["3"][f"HOMOU {task} %"]) - float(seeds["3"][f"Baseline {task} %"])
        assert abs(difference - float(seeds["3"][f"{task} difference"])) < 1e-9
    with open(out / "design_ablation.csv", newline="") as handle:
        design = {row["method"]: row for row in csv.DictReader(handle)}
    assert {"Two-point", "NLLS (4+4)"} | {label for label, _ in DESIGN_ROWS} <= set(design)
    assert all(float(row["T2 RMAE %"]) > 0 for row in design.values())
    with open(out / "design_paper_t2_scale.csv", newline="") as handle:
        scaled = [(row["paper design"], float(row["T2 loss scale"]))
                  for row in csv.DictReader(handle)]
    assert scaled == [("fixed 0.5", 1.0), ("fixed 0.5", 100.0), ("HOMOU", 1.0), ("HOMOU", 100.0)]
    models = tmp_path / "models"
    assert json.loads((models / "design_paper_homou_t2x100" / "train_config.json").read_text())[
        "loss"]["t2_loss_scale"] == 100
    trained = json.loads((models / "design_paper_homou" / "train_config.json").read_text())
    assert trained["model"]["input_features"] == "images" and not trained["model"]["residual"]
    long_run = json.loads((models / "design_paper_homou_long" / "train_config.json")
                          .read_text())
    assert long_run["training"]["epochs"] == 2
    assert json.loads((models / "homou_seed3" / "train_config.json").read_text())[
        "training"]["seed"] == 3


def test_evaluation_config_rejects_bad_seeds(tmp_path):
    config = tmp_path / "evaluation.yaml"
    config.write_text(yaml.safe_dump({"seeds": [1, "two"]}))
    code = main(["evaluate", "--config", str(config), "--quiet"])
    assert code == 2
