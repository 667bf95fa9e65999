"""Shared pytest fixtures: the real scans in ../shared/data and a seeded RNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path to a folder of the real test data, skipping the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test data not found at {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def rician(clean: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the clean signal plus complex Gaussian noise of sd σ per channel."""
    noise = rng.normal(0, sigma, clean.shape) + 1j * rng.normal(0, sigma, clean.shape)
    return np.abs(clean + noise)
