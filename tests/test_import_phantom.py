"""The importers end to end on the project's own phantom, written as DICOM and as NIfTI+JSON."""

from __future__ import annotations

import numpy as np
import pytest

from QMRIMappingLib.importers import describe_input, load_input
from QMRIMappingLib.phantom import generate_subject, write_subject


@pytest.fixture(scope="module")
def subject():
    return generate_subject(11, matrix=96, n_slices=2, snr=40)


@pytest.mark.parametrize("fmt", ["dicom", "nifti"])
def test_phantom_round_trip(subject, fmt, tmp_path):
    folder = write_subject(subject, tmp_path / fmt, fmt)
    loaded = load_input(folder / "images")
    truth = subject.mapping_input()
    assert loaded.kind == "prepared"
    loaded_series, true_series = loaded.map_series(), truth.map_series()
    assert list(loaded_series) == list(true_series) == ["T1rho", "T2"]
    for name in true_series:
        assert [im.time_ms for im in loaded_series[name]] == pytest.approx(
            [im.time_ms for im in true_series[name]])
        for got, want in zip(loaded_series[name], true_series[name], strict=True):
            assert got.role == want.role
            scale = float(np.max(want.data))
            np.testing.assert_allclose(got.data, want.data, atol=2e-4 * scale)
    shared = [im for im in loaded.images if im.role == "shared"]
    assert len(shared) == 1 and shared[0].time_ms == 0
    assert loaded.geometry.mismatch(subject.geometry) is None
    text = describe_input(loaded)
    assert "shared" in text and ("SpinLockTime" in text or "SeriesDescription" in text)
