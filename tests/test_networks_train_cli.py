"""``qmri train`` end to end on a tiny config: outputs, model card, CSV log, resume, folds."""

from __future__ import annotations

import csv
import json

import pytest

from QMRIMappingLib.cli import main
from QMRIMappingLib.networks.model_card import sha256_of
from QMRIMappingLib.networks.train_spec import fold_subjects
from tests.network_fixtures import write_config


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_train_writes_weights_card_log_and_resumes(tmp_path, capsys):
    config = write_config(tmp_path)
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, "train", "--config", config, "--out", out, "--quiet")
    assert code == 0, stdout
    assert "trained tiny" in stdout
    for name in ("tiny.pt", "tiny.json", "last.pt", "best.pt", "train_log.csv",
                 "train_config.json"):
        assert (out / name).is_file(), name
    card = json.loads((out / "tiny.json").read_text())
    assert card["sha256"] == sha256_of(out / "tiny.pt")
    assert card["architecture"] == "homou" and card["training_time_s"] >= 0
    assert card["training_config"]["training"]["lr"] == 5e-4  # the paper's defaults
    assert card["training_config"]["training"]["weight_decay"] == 1e-4
    assert card["training_config"]["training"]["batch_size"] == 2
    assert card["training_data"]["validation_subjects"] == ["train-000001"]
    rows = _rows(out / "train_log.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [("1", "train"), ("1", "val")]
    assert {"loss_T1rho", "loss_T2", "sigma_T1rho", "sigma_T2"} <= set(rows[0])

    # the same folder again is refused; --resume continues the run to epoch 2, exactly as
    # an uninterrupted 2-epoch run; another config cannot resume it
    code, _, err = _run(capsys, "train", "--config", config, "--out", out)
    assert code == 2 and "--resume" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "train", "--config", config, "--out", out, "--resume",
                        "--epochs", "2", "--quiet")
    assert code == 0, err
    code, _, err = _run(capsys, "train", "--config", config, "--out", tmp_path / "straight",
                        "--epochs", "2", "--quiet")
    assert code == 0, err
    resumed, straight = _rows(out / "train_log.csv"), _rows(tmp_path / "straight" /
                                                              "train_log.csv")
    assert [(r["epoch"], r["split"]) for r in resumed] == [
        ("1", "train"), ("1", "val"), ("2", "train"), ("2", "val")]
    for a, b in zip(resumed, straight, strict=True):
        for column in ("loss_T1rho", "loss_T2", "sigma_T2"):
            assert float(a[column]) == pytest.approx(float(b[column]), rel=1e-5), column
    other = write_config(tmp_path, "other.yaml", loss={"t2_loss_scale": 100.0})
    code, _, err = _run(capsys, "train", "--config", other, "--out", out, "--resume")
    assert code == 2 and "differs" in err


def test_json_config_fold_override_and_config_errors(tmp_path, capsys):
    config = write_config(tmp_path, "tiny.json")
    code, _, err = _run(capsys, "train", "--config", config, "--out", tmp_path / "a",
                        "--fold", "0", "--quiet")
    assert code == 0, err
    card = json.loads((tmp_path / "a" / "tiny.json").read_text())
    assert card["training_data"]["validation_subjects"] == ["train-000000"]
    bad = write_config(tmp_path, "bad.yaml", loss={"kind": "self_supervised", "oops": 1})
    code, _, err = _run(capsys, "train", "--config", bad, "--out", tmp_path / "b")
    assert code == 2 and "loss.oops" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "train", "--config", config, "--out", tmp_path / "c",
                        "--fold", "5")
    assert code == 2 and "validation.fold" in err
    bad = write_config(tmp_path, "bad2.yaml", model={"architecture": "stsm"})
    code, _, err = _run(capsys, "train", "--config", bad, "--out", tmp_path / "d")
    assert code == 2 and "task" in err


def test_fold_subjects_partition_the_cohort():
    seen = []
    for fold in range(3):
        train, val = fold_subjects(7, 3, fold)
        assert not set(train) & set(val) and sorted(train + val) == list(range(7))
        seen += val
    assert sorted(seen) == list(range(7))
    assert fold_subjects(4, 1, 0) == ([0, 1, 2, 3], [])


def test_training_on_user_folders_read_by_the_fit_importers(tmp_path, capsys):
    from QMRIMappingLib.phantom_cohort import write_cohort

    write_cohort(tmp_path / "data", subjects=2, fmt="nifti", seed=11, matrix=64, n_slices=1,
                 snr=40)
    folders = [f"data/sub-00{i}/images" for i in range(2)]  # relative to the config file
    config = write_config(tmp_path, "folders.yaml",
                          data={"source": "folders", "folders": folders, "crop": 32})
    code, _, err = _run(capsys, "train", "--config", config, "--out", tmp_path / "run",
                        "--quiet")
    assert code == 0, err
    card = json.loads((tmp_path / "run" / "tiny.json").read_text())
    assert card["training_data"]["source"] == "folders"
    assert card["training_data"]["subjects"] == 2
    supervised = write_config(tmp_path, "gt.yaml",
                              data={"source": "folders", "folders": folders, "crop": 32},
                              loss={"kind": "supervised", "label_mode": "gt"})
    code, _, err = _run(capsys, "train", "--config", supervised, "--out", tmp_path / "gt")
    assert code == 2 and "no ground truth" in err
