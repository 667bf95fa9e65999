"""The ``umsrep`` command end to end on a tiny phantom dataset, with its exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from UMSRepLib.cli import main

from .umsrep_fixtures import TINY_CONFIG_YAML, phantom_dataset  # noqa: F401


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "tiny.yaml").write_text(TINY_CONFIG_YAML)
    return folder


def test_make_and_check_data(tmp_path, capsys):
    code, out, _ = run(["make-data", tmp_path / "d", "--train", 2, "--val", 0, "--test", 1,
                        "--slices", 1, "--matrix", 64, "--quiet"], capsys)
    assert code == 0 and json.loads(out)["cases"] == {"train": 6, "val": 0, "test": 3}
    code, out, _ = run(["check-data", tmp_path / "d"], capsys)
    assert code == 0 and [t["name"] for t in json.loads(out)["tasks"]] == [
        "denoise", "liver", "quality", "tissue"]
    code, _, err = run(["make-data", tmp_path / "d", "--quiet"], capsys)
    assert code == 2 and "not empty" in err and err.count("\n") == 1


def test_pretrain_finetune_baseline_evaluate_predict(workspace, phantom_dataset, capsys):  # noqa: F811
    cfg, data, w = workspace / "tiny.yaml", phantom_dataset, workspace
    common = ["--config", cfg, "--quiet", "--epochs", 1]
    assert run(["pretrain", "--data", data, "--out", w / "pre", *common], capsys)[0] == 0
    code, out, _ = run(["finetune", "--model", w / "pre", "--data", data, "--out", w / "ind",
                        "--strategy", "independent", "--tasks", "liver,quality,tissue",
                        "--feature-views", 2, "--task-epochs", "quality=2", *common], capsys)
    assert code == 0 and "independent: liver, quality, tissue" in out
    stages = json.loads((w / "ind" / "model.json").read_text())["training"]["stages"]
    assert {s["name"]: s["epochs"] for s in stages if s["kind"] == "independent"} == {
        "independent liver": 1, "independent quality": 2, "independent tissue": 1}
    strategy = json.loads((w / "ind" / "model.json").read_text())["training"]["config"][
        "strategy"]
    assert strategy["feature_views"] == 2 and strategy["task_epochs"] == {"quality": 2}
    assert run(["finetune", "--model", w / "pre", "--data", data, "--out", w / "alt",
                "--strategy", "alternating", "--tasks", "liver,quality", "--ratio",
                "liver=2,quality=1", *common], capsys)[0] == 0
    assert run(["finetune", "--model", w / "pre", "--data", data, "--out", w / "joint",
                "--strategy", "joint", "--weighting", "dwa", "--tasks", "liver,quality",
                *common], capsys)[0] == 0
    for task in ("liver", "quality", "tissue"):
        assert run(["baseline", "--data", data, "--task", task, "--out", w / f"sep_{task}",
                    *common], capsys)[0] == 0
    card = json.loads((w / "alt" / "model.json").read_text())
    assert [s["kind"] for s in card["training"]["stages"]] == ["pretrain", "alternating"]

    code, out, _ = run(["evaluate", "--data", data, "--model", f"independent={w / 'ind'}",
                        "--model", f"alternating={w / 'alt'}", "--model", f"joint={w / 'joint'}",
                        "--separate", w / "pre", "--separate", w / "sep_liver", "--separate",
                        w / "sep_quality", "--separate", w / "sep_tissue", "--report",
                        w / "report.md", "--json", w / "report.json", "--quiet"], capsys)
    assert code == 0
    report = (w / "report.md").read_text()
    for words in ("Efficiency against separate models", "PSNR", "Dice", "MCC", "McNemar",
                  "Wilcoxon", "| independent | denoise, liver, quality, tissue |"):
        assert words in report
    numbers = json.loads((w / "report.json").read_text())
    ratio = numbers["efficiency"][0]["parameter_ratio"]
    assert 0 < ratio < 0.5 and numbers["mcnemar"]
    liver_pairs = {(p["a"], p["b"]) for p in numbers["wilcoxon_dice"]}
    assert ("independent", "sep_liver") in liver_pairs
    assert "slice_dice" not in json.loads((w / "ind" / "model.json").read_text()).get(
        "metrics", {}).get("liver", {})

    image = sorted((data / "images").iterdir())[0]
    code, out, _ = run(["predict", image, "--model", w / "ind", "--out", w / "pred"], capsys)
    assert code == 0 and "quality:" in out and "suitable for mapping" in out
    result = json.loads((w / "pred" / "result.json").read_text())
    assert set(result["files"]) == {"liver_probability", "liver_mask", "roi", "heatmap"}
    assert result["recommendation"]["reason"] in out


def test_user_mistakes_exit_2_with_one_line(workspace, phantom_dataset, tmp_path, capsys):  # noqa: F811
    code, _, err = run(["check-data", tmp_path / "missing"], capsys)
    assert code == 2 and err.startswith("umsrep check-data: error:") and err.count("\n") == 1
    broken = tmp_path / "broken"
    shutil.copytree(phantom_dataset, broken)
    next((broken / "masks" / "liver").iterdir()).unlink()
    code, _, err = run(["check-data", broken], capsys)
    assert code == 2 and "missing mask" in err and err.count("\n") == 1
    code, _, err = run(["finetune", "--model", tmp_path / "nope", "--data", phantom_dataset,
                        "--out", tmp_path / "o", "--tasks", "liver"], capsys)
    assert code == 2 and "no model folder" in err
    if (workspace / "pre").is_dir():
        tampered = tmp_path / "tampered"
        shutil.copytree(workspace / "pre", tampered)
        data = bytearray((tampered / "encoder.pt").read_bytes())
        data[-10] ^= 0x55
        (tampered / "encoder.pt").write_bytes(bytes(data))
        code, _, err = run(["finetune", "--model", tampered, "--data", phantom_dataset,
                            "--out", tmp_path / "o", "--tasks", "liver", "--quiet"], capsys)
        assert code == 2 and "SHA-256" in err and err.count("\n") == 1
        code, _, err = run(["finetune", "--model", workspace / "pre", "--data",
                            phantom_dataset, "--out", tmp_path / "o", "--tasks", "spleen",
                            "--config", workspace / "tiny.yaml", "--quiet"], capsys)
        assert code == 2 and "no task 'spleen'" in err
    (tmp_path / "bad.yaml").write_text("pretrain: {epochs: 0}\n")
    code, _, err = run(["pretrain", "--data", phantom_dataset, "--out", tmp_path / "p",
                        "--config", tmp_path / "bad.yaml"], capsys)
    assert code == 2 and "'epochs' must be >= 1" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["finetune", "--strategy", "sometimes"])
    assert exit_info.value.code == 2


def test_console_script_exit_code(tmp_path):
    script = Path(sys.executable).with_name("umsrep")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "UMSRepLib.cli"]
    done = subprocess.run([*command, "check-data", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "does not exist" in done.stderr
