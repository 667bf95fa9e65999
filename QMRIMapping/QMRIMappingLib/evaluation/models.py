"""Get every network the evaluation needs: installed, cached or freshly trained.

A key's training config is the base config with the key's recipe and the
``train_overrides`` merged in (``recipes.py``). An installed (shipped) model is used
only when its card's training config is that same config, so a row never silently
compares networks trained differently; otherwise the network is trained into
``models_dir/<key>`` by :func:`~QMRIMappingLib.networks.training_run.run_training`
(and reused by later runs while its saved config still matches; an interrupted run
resumes).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass

from ..networks.models import MappingNetwork
from ..networks.registry import available_models, load_verified
from ..networks.train_spec import TrainSpec, deep_merge, parse_spec, read_config_file
from ..networks.training_run import CONFIG_COPY, run_training
from .config import EvalConfig
from .recipes import all_recipes


@dataclass
class EvalModel:
    """A network ready for evaluation and where it came from."""

    key: str
    network: MappingNetwork
    source: str  # "installed", "cached" or "trained"
    card: dict


def spec_for(config: EvalConfig, key: str) -> TrainSpec:
    """The training config of model ``key``."""
    recipes = all_recipes(config.t2_loss_scales, config.lambdas, config.seeds,
                          config.design_long_epochs)
    values = read_config_file(config.base_config)
    values = deep_merge(values, recipes[key])
    values = deep_merge(values, config.train_overrides)
    values["name"] = key
    return parse_spec(values, f"{config.base_config} + recipe {key}")


def _same_training(card: dict, spec: TrainSpec) -> bool:
    saved = dict(card.get("training_config") or {})
    wanted = spec.to_dict()
    saved.pop("name", None)
    wanted.pop("name", None)
    return saved == wanted


def ensure_models(config: EvalConfig, keys: list[str], progress: bool = False,
                  log=print) -> dict[str, EvalModel]:
    """Load or train every model in ``keys``; returns key -> :class:`EvalModel`."""
    installed = {entry.name: entry for entry in available_models()}
    models = {}
    for key in keys:
        spec = spec_for(config, key)
        entry = installed.get(key) if key in config.installed else None
        if entry is not None and _same_training(entry.card, spec):
            network, info = load_verified(key)
            models[key] = EvalModel(key, network, "installed", info["card"])
            continue
        folder = config.models_dir / key
        weights = folder / f"{key}.pt"
        saved = folder / CONFIG_COPY
        same = saved.is_file() and json.loads(saved.read_text()) == spec.to_dict()
        if weights.is_file() and same:
            network, info = load_verified(weights)
            models[key] = EvalModel(key, network, "cached", info["card"])
            continue
        resume = same and (folder / "last.pt").is_file()
        if folder.exists() and not resume:
            shutil.rmtree(folder)
        log(f"training {key} into {folder}" + (" (resuming)" if resume else ""))
        run_training(spec, folder, resume=resume, progress=progress)
        network, info = load_verified(weights)
        models[key] = EvalModel(key, network, "trained", info["card"])
    return models


def training_table(models: dict[str, EvalModel]) -> list[dict]:
    """One row per network: key, label, source, epochs, training time, sha256."""
    rows = []
    for key, model in models.items():
        card = model.card
        result = card.get("training_result", {})
        rows.append({"model": key, "label": card.get("label", key), "source": model.source,
                     "best_epoch": result.get("best_epoch"),
                     "epochs_run": result.get("last_epoch"),
                     "optimiser_steps": result.get("optimiser_steps"),
                     "training_time_s": card.get("training_time_s"),
                     "sha256": str(card.get("sha256", ""))[:12]})
    return rows
