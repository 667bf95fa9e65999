"""Tiny training configs and phantom inputs shared by the network CLI tests."""

from __future__ import annotations

from pathlib import Path

import yaml

#: A network small enough to train for an epoch in about a second on one CPU core.
TINY = {
    "name": "tiny",
    "model": {"architecture": "homou", "base_channels": 4, "levels": 2,
              "input_features": "two_point", "residual": True, "residual_smoothing_px": 1.0},
    "data": {"subjects": 2, "matrix": 64, "slices": 2, "crop": 32},
    "validation": {"folds": 2, "fold": 1},
    "training": {"epochs": 1, "batch_size": 2, "device": "cpu", "progress": False,
                 "weighting_lr": 0.05},
    "threads": 1,
}


def write_config(folder: Path, name: str = "tiny.yaml", **changes) -> Path:
    """TINY with top-level sections replaced by ``changes``, written as YAML or JSON."""
    values = {**TINY, **changes}
    path = Path(folder) / name
    if path.suffix == ".json":
        import json

        path.write_text(json.dumps(values))
    else:
        path.write_text(yaml.safe_dump(values))
    return path
