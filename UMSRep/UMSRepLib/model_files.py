"""Model bundles: weights that are checked before they are loaded.

A bundle is a folder::

    model.json        the model card: architecture, tasks, noise model, training data and
                      config, per-stage training time, metrics, and for every weight
                      file its size and SHA-256
    encoder.pt        the shared encoder
    head_<task>.pt    one file per task head

Loading verifies each file's size and SHA-256 against the card *before* unpickling,
then reads it with ``torch.load(weights_only=True)`` (tensors and plain values only, so
a file cannot run code), then checks that every tensor has the name and shape the
card's architecture gives. A modified, truncated or foreign file is refused with one
line naming it (:class:`ModelFileError`); nothing is half-loaded.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import __version__
from .errors import ModelFileError
from .networks import ArchitectureSpec, UMSRepModel, build_encoder, build_head, count_parameters
from .noise import NoiseModel
from .tasks import TaskSpec

CARD = "model.json"
ENCODER_FILE = "encoder.pt"
CARD_FORMAT = "umsrep-model"
WEIGHTS_FORMAT = "umsrep-weights"
FORMAT_VERSION = 1
MODELS_ENV = "UMSREP_MODELS"


def head_file(task: str) -> str:
    return f"head_{task}.pt"


@dataclass
class ModelBundle:
    """A loaded bundle: the model (encoder + heads), its spec, noise model and card."""

    model: UMSRepModel
    spec: ArchitectureSpec
    noise: NoiseModel
    card: dict[str, Any]
    path: Path | None = None
    tasks: dict[str, TaskSpec] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parameter_counts(model: UMSRepModel) -> dict[str, Any]:
    heads = {name: count_parameters(head) for name, head in model.heads.items()}
    encoder = count_parameters(model.encoder)
    return {"encoder": encoder, "heads": heads, "total": encoder + sum(heads.values())}


def save_bundle(model: UMSRepModel, folder: str | Path, spec: ArchitectureSpec,
                noise: NoiseModel, *, name: str, encoder_state: str,
                training: dict[str, Any] | None = None,
                metrics: dict[str, Any] | None = None, overwrite: bool = False) -> Path:
    """Write ``model`` as a bundle; returns the folder. The card is written last."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        if not overwrite and not (folder / CARD).is_file():
            raise ModelFileError(f"output folder {folder} exists, is not empty and holds no "
                                 f"{CARD}; choose a new folder")
        if not overwrite:
            raise ModelFileError(f"model folder {folder} exists; pass --overwrite to replace it")
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    components = [(ENCODER_FILE, "encoder", None, model.encoder)]
    components += [(head_file(t), "head", t, model.heads[t]) for t in model.heads]
    for file_name, component, task, module in components:
        payload = {"format": WEIGHTS_FORMAT, "version": FORMAT_VERSION, "component": component,
                   "task": task, "state_dict": {k: v.detach().cpu().clone()
                                                for k, v in module.state_dict().items()}}
        path = folder / file_name
        partial = path.with_name(path.name + ".partial")
        torch.save(payload, partial)
        os.replace(partial, path)
        files[file_name] = {"sha256": sha256_of(path), "bytes": path.stat().st_size}
    for stale in folder.glob("head_*.pt"):
        if stale.name not in files:
            stale.unlink()
    card = {
        "format": CARD_FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "umsreplib_version": __version__,
        "torch_version": torch.__version__,
        "method": "UMS-Rep (Zamzmi, Rajaraman & Antani, Inform. Med. Unlocked 2021): "
                  "denoising-autoencoder encoder shared by task heads",
        "architecture": spec.to_dict(),
        "noise": noise.to_dict(),
        "encoder_state": encoder_state,
        "tasks": [model.tasks[t].to_dict() for t in model.heads],
        "parameters": parameter_counts(model),
        "files": files,
        "training": training or {},
        "metrics": metrics or {},
    }
    write_card(folder, card)
    return folder


def write_card(folder: str | Path, card: dict[str, Any]) -> Path:
    """(Re)write ``model.json`` atomically (e.g. to add metrics after evaluation)."""
    path = Path(folder) / CARD
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def read_card(folder: str | Path) -> dict[str, Any]:
    """The card of a bundle, checked for format and required entries."""
    folder = Path(folder)
    path = folder / CARD
    if not folder.is_dir():
        raise ModelFileError(f"model folder {folder} does not exist")
    if not path.is_file():
        raise ModelFileError(f"{folder} is not a UMSRep model: {CARD} is missing")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelFileError(f"cannot read {path}: {error}") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ModelFileError(f"{path} is not a UMSRep model card (format {CARD_FORMAT!r})")
    if card.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path} has format version {card.get('format_version')}; this "
                             f"UMSRepLib reads version {FORMAT_VERSION}")
    for key in ("architecture", "tasks", "files"):
        if key not in card:
            raise ModelFileError(f"{path} lacks the {key!r} entry")
    return card


def load_bundle(folder: str | Path, device: str | torch.device = "cpu") -> ModelBundle:
    """Verify and load a bundle (see the module docstring); the model is in eval mode."""
    folder = Path(folder)
    card = read_card(folder)
    try:
        spec = ArchitectureSpec.from_dict(card["architecture"])
        tasks = [TaskSpec.from_dict(t) for t in card["tasks"]]
        noise = NoiseModel.from_dict(card.get("noise"))
    except Exception as error:
        raise ModelFileError(f"{folder / CARD}: {error}") from None
    encoder = build_encoder(spec)
    _load_component(folder, card, ENCODER_FILE, "encoder", None, encoder)
    model = UMSRepModel(encoder)
    for task in tasks:
        head = build_head(task, spec)
        _load_component(folder, card, head_file(task.name), "head", task.name, head)
        model.add_head(task, head)
    model.to(device).eval()
    return ModelBundle(model=model, spec=spec, noise=noise, card=card, path=folder,
                       tasks={t.name: t for t in tasks})


def _load_component(folder: Path, card: dict, file_name: str, component: str,
                    task: str | None, module: nn.Module) -> None:
    path = folder / file_name
    entry = card["files"].get(file_name)
    if entry is None:
        raise ModelFileError(f"{folder / CARD} lists no checksum for {file_name}; refusing "
                             "to load an unlisted file")
    if not path.is_file():
        raise ModelFileError(f"model file {path} is missing")
    size = path.stat().st_size
    if size != entry.get("bytes"):
        raise ModelFileError(f"model file {path} has {size} bytes, the card says "
                             f"{entry.get('bytes')}: truncated or replaced")
    if sha256_of(path) != entry.get("sha256"):
        raise ModelFileError(f"model file {path} does not match its SHA-256 in {CARD}: the file "
                             "was modified or corrupted")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelFileError(f"cannot load {path}: {first[:200]}") from None
    if (not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT
            or payload.get("component") != component or payload.get("task") != task):
        raise ModelFileError(f"{path} is not the UMSRep {component} weights expected here")
    state = payload.get("state_dict")
    expected = module.state_dict()
    if not isinstance(state, dict):
        raise ModelFileError(f"{path} holds no state_dict")
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        what = (f"tensor {missing[0]!r} is missing" if missing
                else f"it has an unknown tensor {unexpected[0]!r}")
        raise ModelFileError(f"{path} was saved for another architecture: {what}")
    for key, tensor in expected.items():
        if not isinstance(state[key], torch.Tensor) or state[key].shape != tensor.shape:
            shape = list(getattr(state[key], "shape", []))
            raise ModelFileError(f"{path} was saved for another architecture: tensor {key!r} "
                                 f"has shape {shape}, the card's architecture needs "
                                 f"{list(tensor.shape)}")
    module.load_state_dict(state)


def default_models_dir() -> Path:
    """Where shipped bundles live: $UMSREP_MODELS, else ``UMSRep/Resources/Models``."""
    override = os.environ.get(MODELS_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "Resources" / "Models"


def resolve_bundle(name_or_path: str | Path) -> Path:
    """A bundle folder from a path, or the name of a shipped bundle (e.g. ``liver_mr``)."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    shipped = default_models_dir() / str(name_or_path)
    if shipped.is_dir():
        return shipped
    available = sorted(p.name for p in default_models_dir().glob("*") if (p / CARD).is_file()) \
        if default_models_dir().is_dir() else []
    raise ModelFileError(f"no model folder {name_or_path!r} (shipped models: "
                         f"{', '.join(available) or 'none'})")


def shipped_bundles() -> list[Path]:
    """Shipped bundle folders (those holding a model card)."""
    folder = default_models_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (p / CARD).is_file())
