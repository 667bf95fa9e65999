"""Build a network from its config, count it, and save/load weights with their config.

A weights file holds ``{"config": <JSON-serialisable dict>, "state_dict": ...}``, so
:func:`load_model` rebuilds exactly the network the weights belong to and loads them
strictly (a missing or extra tensor is an error, not a silent partial load).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import UserInputError
from .config import ARCHITECTURES, default_config, validate_config
from .models import MappingNetwork


def build_model(config: dict) -> MappingNetwork:
    """The network described by ``config`` (keyed by ``config["architecture"]``).

    "baseline", "homou" and "heteu" build the multi-task U-Net (HETEU with its
    log-scale decoder); "stsm" and "st" the single-task ones. Weights are freshly
    initialised; the same config always gives the same parameter names and shapes.
    """
    return MappingNetwork(validate_config(config))


def default_models(task: str = "T1rho") -> dict[str, MappingNetwork]:
    """One default-config network per architecture (``task`` for the single-task ones)."""
    return {name: build_model(default_config(name, task if name in ("stsm", "st") else None))
            for name in ARCHITECTURES}


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def model_size_mb(model: nn.Module) -> float:
    """Size of the parameters and buffers in MB (10^6 bytes) when stored as float32."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * 4 for t in tensors if t.is_floating_point()) / 1e6


def save_model(model: MappingNetwork, path: str | Path) -> Path:
    """Write the config and the float32 weights of ``model`` to ``path``."""
    path = Path(path)
    state = {key: value.detach().cpu().float() if value.is_floating_point() else value.cpu()
             for key, value in model.state_dict().items()}
    torch.save({"config": model.config, "state_dict": state}, path)
    return path


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> MappingNetwork:
    """Rebuild the network stored in ``path`` and load its weights strictly (eval mode)."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"network weights {path} not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # pickle/zip errors have many types
        raise UserInputError(f"{path} is not a network weights file ({error})") from error
    if not isinstance(payload, dict) or "config" not in payload or "state_dict" not in payload:
        raise UserInputError(f"{path} lacks 'config' and 'state_dict'; it was not written "
                             "by save_model")
    model = build_model(payload["config"])
    model.load_state_dict(payload["state_dict"], strict=True)
    return model.eval()
