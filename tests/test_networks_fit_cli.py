"""``qmri fit --method network`` end to end on a phantom subject, and its refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from QMRIMappingLib.cli import main
from QMRIMappingLib.image_io import read_nifti_voxels
from QMRIMappingLib.networks import available_models
from QMRIMappingLib.phantom import generate_subject, write_subject
from QMRIMappingLib.phantom_cohort import write_cohort

pytestmark = pytest.mark.skipif(not available_models(),
                                reason="no shipped models installed (run 'make models')")


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    root = tmp_path_factory.mktemp("netfit") / "cohort"
    write_cohort(root, subjects=1, fmt="nifti", seed=5, matrix=128, n_slices=2, snr=40)
    return root / "sub-000"


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_network_fit_writes_the_nlls_outputs_and_names_its_inputs(subject, tmp_path, capsys):
    out = tmp_path / "homou"
    code, stdout, err = _run(capsys, "fit", subject / "images", "--method", "network",
                             "--out", out, "--roi", subject / "ground_truth" / "roi.nii.gz",
                             "--reference", subject / "ground_truth", "--quiet")
    assert code == 0, err
    assert "network model homou" in stdout and "sha256 verified" in stdout
    assert "input images: shared 0 ms; t1rho 30 ms; t2 34.6 ms" in stdout
    for task in ("T1rho", "T2"):
        for suffix in ("", "_S0", "_R2", "_rms", "_sd", "_sd_cov", "_status"):
            assert (out / f"{task}{suffix}.nii.gz").is_file(), task + suffix
        assert not (out / f"{task}_uncertainty.nii.gz").exists()  # HOMOU: none
    summary = json.loads((out / "summary.json").read_text())
    method = summary["method"]
    assert method["name"] == "network" and method["model"]["name"] == "homou"
    assert method["model"]["verified"] and len(method["model"]["sha256"]) == 64
    assert [(i["role"], i["time_ms"]) for i in method["input_images"]] == [
        ("shared", 0.0), ("t1rho", 30.0), ("t2", 34.6)]
    assert method["model"]["uncertainty_files"] == []
    assert method["model"]["uncertainty_output"].startswith("none")
    assert summary["maps"]["T2"]["times_ms"] == [0.0, 34.6]
    for task in ("T1rho", "T2"):  # a trained model is close to the phantom's truth
        rmae = summary["maps"][task]["reference"]["roi"][0]["rmae_percent"]
        assert rmae < 15.0, (task, rmae)
    t2 = read_nifti_voxels(out / "T2.nii.gz")
    assert np.isfinite(t2).any() and np.isnan(t2).any()  # NaN outside the fit mask


def test_heteu_writes_its_uncertainty_and_other_pairs_work(subject, tmp_path, capsys):
    if "heteu" not in {m.name for m in available_models()}:
        pytest.skip("no shipped HETEU model")
    out = tmp_path / "heteu"
    code, _, err = _run(capsys, "fit", subject / "images", "--method", "network", "--model",
                        "heteu", "--two-point-times", "T1rho=50,T2=51", "--out", out,
                        "--quiet")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"]["model"]["input_times_ms"] == {"TSL": 50.0, "TP": 51.0}
    assert summary["method"]["model"]["uncertainty_files"] == [
        "T1rho_uncertainty.nii.gz", "T2_uncertainty.nii.gz"]
    scale = read_nifti_voxels(out / "T1rho_uncertainty.nii.gz")
    fitted = np.isfinite(read_nifti_voxels(out / "T1rho.nii.gz"))
    assert (scale[fitted] > 0).all()


def test_times_outside_the_trained_range_are_refused(tmp_path, capsys):
    subject = generate_subject(8, matrix=64, n_slices=1, tsl_ms=(0.0, 10.0, 30.0, 70.0))
    folder = write_subject(subject, tmp_path / "long", fmt="nifti")
    code, _, err = _run(capsys, "fit", folder / "images", "--method", "network",
                        "--two-point-times", "T1rho=70", "--out", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "TSL 70 ms is outside the range" in err and "10-50 ms" in err
    assert not (tmp_path / "out").exists()


def test_bad_model_requests_are_one_line_errors(subject, tmp_path, capsys):
    code, _, err = _run(capsys, "fit", subject / "images", "--model", "homou",
                        "--out", tmp_path / "a")
    assert code == 2 and "--method network" in err
    code, _, err = _run(capsys, "fit", subject / "images", "--method", "network", "--model",
                        "nonexistent", "--out", tmp_path / "b")
    assert code == 2 and "neither an installed model" in err
    shipped = available_models()[0]
    bad = tmp_path / "bad.pt"
    bad.write_bytes(shipped.path.read_bytes()[:-10])  # truncated, card copied unchanged
    card = dict(shipped.card, file="bad.pt")
    bad.with_suffix(".json").write_text(json.dumps(card))
    code, _, err = _run(capsys, "fit", subject / "images", "--method", "network", "--model",
                        bad, "--out", tmp_path / "c")
    assert code == 2 and "does not match its model card" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "c").exists()
