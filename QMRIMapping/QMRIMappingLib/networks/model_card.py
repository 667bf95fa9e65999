"""Model cards: the JSON file beside every weights file that says what the weights are.

``<name>.json`` next to ``<name>.pt`` records the weights file's sha256 and size, the
network config, the complete training config, the training data, the validation
metrics, how long training took and on what, and what ``qmri fit`` writes as
``<map>_uncertainty`` for this architecture. :func:`QMRIMappingLib.networks.registry.
load_verified` refuses weights whose sha256 does not match their card.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import torch

from .. import __version__

CARD_FORMAT = 1

#: What ``qmri fit --method network`` writes as ``<map>_uncertainty``, per architecture.
UNCERTAINTY_OUTPUT = {
    "heteu": "per-pixel Laplace scale sigma = sigma_min + exp(s) of the relaxation residual "
             "predicted by the HETEU scale decoder, in the input's signal units",
    "homou": "none: HOMOU learns one scale per task for the whole training set (logged in "
             "the card's metrics.weighting), not a per-pixel uncertainty",
    "baseline": "none: the baseline predicts no uncertainty",
    "stsm": "none: single-task networks predict no uncertainty",
    "st": "none: single-task networks predict no uncertainty",
}


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def card_path(weights: str | Path) -> Path:
    """``<name>.json`` beside ``<name>.pt``."""
    return Path(weights).with_suffix(".json")


def write_model_card(weights: str | Path, spec, training: dict) -> dict:
    """Write the card of ``weights`` (trained by ``spec``, a TrainSpec); returns it."""
    weights = Path(weights)
    network = spec.network
    card = {
        "format": CARD_FORMAT,
        "name": spec.name,
        "label": _label(spec),
        "file": weights.name,
        "sha256": sha256_of(weights),
        "size_bytes": weights.stat().st_size,
        "architecture": network["architecture"],
        "tasks": network["tasks"],
        "trained_pairs_ms": network["trained_pairs_ms"],
        "network_config": network,
        "training_config": spec.to_dict(),
        "training_data": training["data"],
        "training_result": training["result"],
        "metrics": training["metrics"],
        "training_time_s": training["training_time_s"],
        "data_time_s": training["data_time_s"],
        "trained_on": {"device": training["device"], "processes": training["processes"],
                       "threads": training["threads"], "machine": platform.machine(),
                       "processor": platform.processor() or platform.machine()},
        "uncertainty_output": UNCERTAINTY_OUTPUT[network["architecture"]],
        "reproduce": (f"qmri train --config {spec.source} --out build/models/{spec.name}"
                      if Path(spec.source).is_file() else
                      f"qmri train with training_config (from {spec.source})"),
        "software": {"qmri": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    card_path(weights).write_text(json.dumps(_clean(card), indent=2) + "\n")
    return card


def read_model_card(path: str | Path) -> dict:
    """A card as a dict (raises ValueError for an unreadable one)."""
    try:
        card = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"model card {path} cannot be read ({error})") from error
    if not isinstance(card, dict) or "sha256" not in card or "file" not in card:
        raise ValueError(f"model card {path} lacks 'file' and 'sha256'")
    return card


def _label(spec) -> str:
    architecture = spec.network["architecture"]
    names = {"baseline": "Baseline", "homou": "Baseline+HOMOU", "heteu": "Baseline+HETEU",
             "stsm": "STSM", "st": "ST"}
    label = names[architecture]
    if spec.loss.kind == "supervised":
        label = f"SL ({spec.loss.label_mode} labels)"
    if architecture in ("stsm", "st"):
        label += f" {spec.network['tasks'][0]}"
    return label


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value
