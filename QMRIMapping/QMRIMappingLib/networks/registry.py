"""Installed network models: find them, list them, and load them only if they are intact.

Shipped models live in ``QMRIMapping/Resources/Models`` as ``<name>.pt`` (weights, from
:func:`~.factory.save_model`) plus ``<name>.json`` (model card, ``model_card.py``). The
folder is looked up in this order: ``$QMRI_MODELS_DIR``; the module's own
``Resources/Models`` (source checkout, editable install, Slicer extension); and
``<prefix>/share/qmri/models`` (where a wheel installs them, see pyproject.toml).

:func:`load_verified` is the only way ``qmri fit`` and the Slicer module load weights:

1. the file's sha256 must equal its card's (a tampered or truncated file is refused);
2. it is read with ``torch.load(weights_only=True)`` (no pickled code runs);
3. its config must name the card's architecture, and the state dict must fit that
   architecture exactly (``load_state_dict(strict=True)``).

Each failure is one :class:`UserInputError` line saying which file and what is wrong.
A weights file given by path without a card beside it cannot be verified and is
refused unless ``allow_unverified`` (``qmri fit --model PATH --unverified``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import UserInputError
from .config import validate_config
from .model_card import card_path, read_model_card, sha256_of
from .models import MappingNetwork

ENVIRONMENT_VARIABLE = "QMRI_MODELS_DIR"
#: Model offered first where a caller needs a default (the paper's headline model).
DEFAULT_MODEL = "homou"


@dataclass(frozen=True)
class ModelEntry:
    """An installed model: its name, label for menus, weights file and card."""

    name: str
    label: str
    path: Path
    card: dict


def model_dirs() -> list[Path]:
    """Folders searched for shipped models, first match wins."""
    dirs = []
    if os.environ.get(ENVIRONMENT_VARIABLE):
        dirs.append(Path(os.environ[ENVIRONMENT_VARIABLE]))
    dirs.append(Path(__file__).resolve().parents[2] / "Resources" / "Models")
    dirs.append(Path(sys.prefix) / "share" / "qmri" / "models")
    return dirs


def available_models() -> list[ModelEntry]:
    """Every model with a readable card and its weights file present, default first."""
    found: dict[str, ModelEntry] = {}
    for folder in model_dirs():
        if not folder.is_dir():
            continue
        for card_file in sorted(folder.glob("*.json")):
            try:
                card = read_model_card(card_file)
            except ValueError:
                continue
            weights = card_file.with_name(card["file"])
            name = card_file.stem
            if weights.is_file() and name not in found:
                found[name] = ModelEntry(name, f"{card.get('label', name)} ({name})", weights,
                                         card)
    return sorted(found.values(), key=lambda e: (e.name != DEFAULT_MODEL, e.name))


def resolve_model(model: str | Path | None) -> tuple[Path, dict | None]:
    """(weights path, card or None) for an installed model name or a weights file path."""
    if model is None or str(model) == "":
        model = DEFAULT_MODEL
    text = str(model)
    for entry in available_models():
        if entry.name == text:
            return entry.path, entry.card
    path = Path(text).expanduser()
    if path.suffix == ".json" and path.is_file():
        card = _card(path)
        return path.with_name(card["file"]), card
    if path.is_file():
        card_file = card_path(path)
        return path, (_card(card_file) if card_file.is_file() else None)
    names = ", ".join(entry.name for entry in available_models()) or "none installed"
    raise UserInputError(f"model {text!r} is neither an installed model ({names}) nor a "
                         "weights file; run 'make models' to train the shipped ones")


def load_verified(model: str | Path | None = None, device: str | torch.device = "cpu",
                  allow_unverified: bool = False) -> tuple[MappingNetwork, dict]:
    """Load an installed model (by name) or a weights file, checking it first.

    Returns the network in eval mode and a description: ``name``, ``path``, ``sha256``,
    ``verified`` and the ``card`` (None without one).
    """
    path, card = resolve_model(model)
    if not path.is_file():
        raise UserInputError(f"weights file {path} named by its model card is missing")
    digest = sha256_of(path)
    if card is None:
        if not allow_unverified:
            raise UserInputError(f"{path} has no model card ({card_path(path).name}) to "
                                 "verify its sha256 against; refusing unverified weights")
    elif digest != card["sha256"]:
        size = path.stat().st_size
        expected = card.get("size_bytes")
        what = ("truncated" if isinstance(expected, int) and size < expected
                else "modified")
        raise UserInputError(f"{path} does not match its model card: sha256 {digest[:12]}... "
                             f"instead of {str(card['sha256'])[:12]}... (file {what}?); "
                             "refusing it (re-run 'make models')")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # zip / unpickling errors come in many types
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserInputError(f"{path} is not a readable weights file ({first})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("config"), dict) \
            or not isinstance(payload.get("state_dict"), dict):
        raise UserInputError(f"{path} is not a network weights file (no config and "
                             "state_dict)")
    config = validate_config(payload["config"])
    if card is not None and card.get("architecture") not in (None, config["architecture"]):
        raise UserInputError(f"{path} holds a {config['architecture']} network but its card "
                             f"says {card['architecture']}; refusing it")
    network = MappingNetwork(config)
    try:
        network.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise UserInputError(f"{path}: the weights do not fit a {config['architecture']} "
                             f"network ({first})") from None
    info = {"name": card.get("name", path.stem) if card else path.stem, "path": str(path),
            "sha256": digest, "verified": card is not None, "card": card}
    return network.to(device).eval(), info


def _card(path: Path) -> dict:
    try:
        return read_model_card(path)
    except ValueError as error:
        raise UserInputError(str(error)) from None
