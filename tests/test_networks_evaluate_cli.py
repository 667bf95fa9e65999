"""``qmri evaluate`` on a tiny config: trains its tiny networks, writes every file."""

from __future__ import annotations

import csv

import yaml

from QMRIMappingLib.cli import main
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
