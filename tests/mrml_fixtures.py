"""Fixtures and helpers shared by the MRML, export and module tests.

The phantom is small (64 x 64 x 2 voxels) so that the whole path, DICOM writing included,
takes about a second; import the fixtures into a test module to use them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from QMRIMappingLib.geometry import Geometry

PHANTOM_SEED = 11
PHANTOM_MATRIX = 64
PHANTOM_SLICES = 2


def oblique_geometry(size=(6, 5, 4)) -> Geometry:
    """A grid rotated about two axes with anisotropic spacing and an off-centre origin."""
    a, b = np.deg2rad(20.0), np.deg2rad(-35.0)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    direction = rz @ rx
    return Geometry(size=size, spacing=(1.5, 0.8, 4.0), origin=(-30.0, 12.5, 101.0),
                    direction=tuple(float(v) for v in direction.ravel()))


@pytest.fixture(scope="module")
def phantom_dicom(tmp_path_factory):
    """(subject, folder): a phantom subject written as DICOM with its ground truth."""
    from QMRIMappingLib.phantom import generate_subject, write_subject

    subject = generate_subject(PHANTOM_SEED, matrix=PHANTOM_MATRIX, n_slices=PHANTOM_SLICES,
                               snr=60.0)
    folder = tmp_path_factory.mktemp("phantom") / "subject"
    write_subject(subject, folder, "dicom")
    return subject, folder


@pytest.fixture
def scene():
    """A fresh app-free MRML scene."""
    from QMRIMappingLib.mrml.scene import new_scene

    return new_scene()


def dciodvfy_errors(path: Path) -> list[str]:
    """The "Error" lines dciodvfy prints for a DICOM file (skips when it is missing)."""
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.skip("dciodvfy (Debian package dicom3tools) is not installed; `make install` "
                    "installs it")
    completed = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    output = completed.stdout + completed.stderr
    return [line for line in output.splitlines() if line.startswith("Error")]
