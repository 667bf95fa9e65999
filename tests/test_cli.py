"""The ``qmri`` command end to end: phantom, fit, inspect, demo, and every bad-input case."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from QMRIMappingLib.cli import main
from QMRIMappingLib.image_io import read_nifti_voxels
from QMRIMappingLib.phantom_cohort import write_cohort
from tests.conftest import shared_path


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _read(path: Path) -> np.ndarray:
    """Voxels with NaN kept (SimpleITK's NIfTI reader turns NaN into 0)."""
    return read_nifti_voxels(path)


@pytest.fixture(scope="module")
def dicom_subject(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("phantom") / "cohort"
    write_cohort(root, subjects=1, fmt="dicom", seed=3, matrix=128, n_slices=2, snr=60)
    return root / "sub-000"


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fit_phantom_dicom_end_to_end(dicom_subject, tmp_path, capsys):
    before = _tree_digest(dicom_subject)
    out = tmp_path / "maps"
    code, stdout, _ = _run(capsys, "fit", dicom_subject / "images", "--out", out, "--roi",
                           dicom_subject / "ground_truth" / "roi.nii.gz", "--reference",
                           dicom_subject / "ground_truth", "--quiet")
    assert code == 0
    assert "RMAE" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["maps"]["T1rho"]["times_ms"] == [0.0, 10.0, 30.0, 50.0]
    assert summary["maps"]["T2"]["times_ms"] == pytest.approx([0.0, 18.2, 34.6, 51.0])
    for name in ("T1rho", "T2"):
        for suffix in ("", "_S0", "_R2", "_rms", "_sd", "_sd_cov", "_status"):
            assert (out / f"{name}{suffix}.nii.gz").is_file()
        fitted = _read(out / f"{name}.nii.gz")
        truth = _read(dicom_subject / "ground_truth" / f"{name}.nii.gz")
        roi = _read(dicom_subject / "ground_truth" / "roi.nii.gz") > 0
        error = np.abs(fitted[roi] - truth[roi])
        assert np.median(error) < 3.0
        stats = summary["maps"][name]["roi"][0]
        assert stats["count"] == roi.sum()
        assert stats["mean"] == pytest.approx(float(np.mean(fitted[roi])), rel=1e-5)
        rmae = summary["maps"][name]["reference"]["roi"][0]["rmae_percent"]
        assert rmae == pytest.approx(100 * error.sum() / truth[roi].sum(), rel=1e-4)
        status = _read(out / f"{name}_status.nii.gz")
        assert np.all(np.isnan(fitted[status == 0]))
        assert np.all(np.isfinite(fitted[status == 1]))
        image = sitk.ReadImage(str(out / f"{name}.nii.gz"))
        source = sitk.ReadImage(str(dicom_subject / "ground_truth" / f"{name}.nii.gz"))
        assert np.allclose(image.GetOrigin(), source.GetOrigin(), atol=1e-3)
        assert np.allclose(image.GetSpacing(), source.GetSpacing(), atol=1e-4)
    assert _tree_digest(dicom_subject) == before


def test_two_point_uses_two_images_and_is_noisier(dicom_subject, tmp_path, capsys):
    gt = dicom_subject / "ground_truth"
    runs = {}
    for method in ("nlls", "two-point"):
        out = tmp_path / method
        code, _, _ = _run(capsys, "fit", dicom_subject / "images", "--out", out, "--method",
                          method, "--roi", gt / "roi.nii.gz", "--reference", gt, "--quiet")
        assert code == 0
        runs[method] = json.loads((out / "summary.json").read_text())
    two = runs["two-point"]["maps"]
    assert two["T1rho"]["times_ms"] == [0.0, 30.0]
    assert two["T2"]["times_ms"] == pytest.approx([0.0, 34.6])
    for name in ("T1rho", "T2"):
        nlls_rmae = runs["nlls"]["maps"][name]["reference"]["roi"][0]["rmae_percent"]
        assert two[name]["reference"]["roi"][0]["rmae_percent"] > nlls_rmae


def test_two_point_times_option(dicom_subject, tmp_path, capsys):
    out = tmp_path / "tp"
    code, _, _ = _run(capsys, "fit", dicom_subject / "images", "--out", out, "--method",
                      "two-point", "--two-point-times", "T1rho=50,T2=18.2", "--quiet")
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["maps"]["T1rho"]["times_ms"] == [0.0, 50.0]
    code, _, err = _run(capsys, "fit", dicom_subject / "images", "--out", tmp_path / "x",
                        "--method", "two-point", "--two-point-times", "T1rho=20", "--quiet")
    assert code == 2 and "no image at 20 ms" in err


def test_inspect_explains_decisions(dicom_subject, capsys):
    code, stdout, _ = _run(capsys, "inspect", dicom_subject / "images")
    assert code == 0
    for text in ("T1rho", "T2", "shared", "TSL", "10", "18.2", "SeriesDescription"):
        assert text in stdout


def test_real_ukat_t2_kidney(tmp_path, capsys):
    folder = shared_path("ukat-t2-kidney-philips")
    before = _tree_digest(folder)
    out = tmp_path / "ukat"
    code, _, _ = _run(capsys, "fit", folder, "--out", out, "--quiet")
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["maps"]) == ["T2"]
    assert len(summary["maps"]["T2"]["times_ms"]) == 10
    t2 = _read(out / "T2.nii.gz")
    r2 = _read(out / "T2_R2.nii.gz")
    good = np.isfinite(t2) & (r2 > 0.95)
    assert good.sum() > 5000
    assert 50 < np.median(t2[good]) < 150  # in-vivo abdominal/kidney T2 at 3 T
    assert _tree_digest(folder) == before


def test_real_t2star_naming_and_override(tmp_path, capsys):
    folder = shared_path("ukat-t2star-kidney-philips")
    code, _, _ = _run(capsys, "fit", folder, "--out", tmp_path / "a", "--quiet")
    assert code == 0 and (tmp_path / "a" / "T2star.nii.gz").is_file()
    code, _, _ = _run(capsys, "fit", folder, "--out", tmp_path / "b", "--quiet",
                      "--echo-map", "T2")
    assert code == 0 and (tmp_path / "b" / "T2.nii.gz").is_file()


def test_overwrite(dicom_subject, tmp_path, capsys):
    out = tmp_path / "maps"
    out.mkdir()
    (out / "old.txt").write_text("old")
    code, _, err = _run(capsys, "fit", dicom_subject / "images", "--out", out, "--quiet")
    assert code == 2 and "already exists" in err and (out / "old.txt").exists()
    code, _, _ = _run(capsys, "fit", dicom_subject / "images", "--out", out, "--quiet",
                      "--overwrite")
    assert code == 0 and not (out / "old.txt").exists() and (out / "T2.nii.gz").exists()


# --- bad input ---------------------------------------------------------------------------

def _echo_folder(folder: Path, times_s, *, shape=(1, 32, 32), values=None, spacing=None,
                 sequence="SE") -> Path:
    folder.mkdir(parents=True)
    for index, echo_time in enumerate(times_s):
        data = (np.full(shape, 1000.0 * np.exp(-echo_time * 1000 / 50.0), np.float32)
                if values is None or values[index] is None else values[index])
        image = sitk.GetImageFromArray(data)
        image.SetSpacing(spacing[index] if spacing else (1.0, 1.0, 5.0))
        sitk.WriteImage(image, str(folder / f"echo_{index}.nii.gz"))
        sidecar = {"EchoTime": echo_time, "EchoNumber": index + 1, "ScanningSequence": sequence}
        (folder / f"echo_{index}.json").write_text(json.dumps(sidecar))
    return folder


def _bad_cases(root: Path) -> dict[str, tuple[list, str]]:
    shape = (1, 32, 32)
    cases = {}
    (root / "empty").mkdir()
    cases["empty folder"] = ([root / "empty"], "empty")
    (root / "junk").mkdir()
    (root / "junk" / "notes.txt").write_text("not an image")
    cases["no usable images"] = ([root / "junk"], "no usable images")
    cases["single time"] = ([_echo_folder(root / "single", [0.01])], "one time point")
    cases["duplicate times"] = ([_echo_folder(root / "dup", [0.01, 0.01, 0.03])], "duplicate")
    cases["ms in sidecar"] = ([_echo_folder(root / "ms", [10.0, 20.0, 30.0])], "millisecond")
    override = root / "times.csv"
    good = _echo_folder(root / "good", [0.01, 0.02, 0.03])
    override.write_text("series,time_ms,role\necho_0.nii.gz,0.01,echo\necho_1.nii.gz,0.02,echo\n"
                        "echo_2.nii.gz,0.03,echo\n")
    cases["seconds in override"] = ([good, "--times-file", override], "second")
    cases["geometry"] = ([_echo_folder(root / "geom", [0.01, 0.02, 0.03],
                                       spacing=[(1, 1, 5), (1.5, 1.5, 5), (1, 1, 5)])],
                         "echo_1")
    zero = np.zeros(shape, np.float32)
    cases["all zero"] = ([_echo_folder(root / "zero", [0.01, 0.02], values=[zero, None])],
                         "zero")
    nan = np.full(shape, np.nan, np.float32)
    cases["nan"] = ([_echo_folder(root / "nan", [0.01, 0.02], values=[None, nan])], "NaN")
    negative = -np.ones(shape, np.float32)
    cases["negative"] = ([_echo_folder(root / "neg", [0.01, 0.02], values=[negative, None])],
                         "negative")
    return cases


def test_bad_inputs_fail_cleanly(tmp_path, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = _bad_cases(inputs)
    before = _tree_digest(inputs)
    for label, (arguments, expected) in cases.items():
        out = tmp_path / "outputs" / label.replace(" ", "_")
        code, _, err = _run(capsys, "fit", *arguments, "--out", out, "--quiet")
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, label
        assert len(lines) == 1 and lines[0].startswith("qmri fit: error:"), (label, err)
        assert expected.lower() in lines[0].lower(), (label, lines[0])
        assert "Traceback" not in err
        assert not out.exists(), label
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").iterdir())
    assert _tree_digest(inputs) == before


def test_unwritable_output_is_refused_before_work(dicom_subject, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for out in (blocker / "maps", Path("/proc/qmri-test-output")):
        code, _, err = _run(capsys, "fit", dicom_subject / "images", "--out", out, "--quiet")
        assert code == 2 and "cannot be created" in err, err


def test_help_states_units_and_inputs(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "ms" in text and "DICOM" in text and "sidecar" in text and "seconds" in text


def test_phantom_command_writes_both_formats(tmp_path, capsys):
    for fmt in ("dicom", "nifti"):
        out = tmp_path / fmt
        code, _, _ = _run(capsys, "phantom", "--subjects", 2, "--out", out, "--format", fmt,
                          "--matrix", 96, "--slices", 1, "--seed", 5)
        assert code == 0
        assert sorted(p.name for p in out.iterdir()) == ["sub-000", "sub-001"]
    code, _, err = _run(capsys, "phantom", "--out", tmp_path / "x", "--snr", -1)
    assert code == 2 and "snr" in err.lower()
    assert not (tmp_path / "x").exists()


def test_demo_writes_maps_summary_and_figure(tmp_path, capsys):
    out = tmp_path / "demo"
    code, _, _ = _run(capsys, "demo", "--out", out)
    assert code == 0
    assert (out / "qmri-demo.png").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text())
    assert str(out) in summary["input"]["path"] and ".partial-" not in json.dumps(summary)
    for name in ("T1rho", "T2"):
        assert summary["maps"][name]["reference"]["roi"][0]["rmae_percent"] < 10
