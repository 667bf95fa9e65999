"""Weights integrity: sha256 against the model card, weights-only loading, architecture
check; the shipped models load and are small."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.networks import (
    available_models,
    build_model,
    default_config,
    load_verified,
    save_model,
)
from QMRIMappingLib.networks.model_card import sha256_of


def _card(weights, **extra) -> None:
    card = {"name": weights.stem, "file": weights.name, "sha256": sha256_of(weights),
            "size_bytes": weights.stat().st_size, "architecture": "homou", **extra}
    weights.with_suffix(".json").write_text(json.dumps(card))


@pytest.fixture
def good(tmp_path):
    torch.manual_seed(0)
    path = save_model(build_model(default_config("homou", base_channels=4, levels=2)),
                      tmp_path / "net.pt")
    _card(path)
    return path


def test_a_good_file_loads_verified(good):
    network, info = load_verified(good)
    assert info["verified"] and info["sha256"] == sha256_of(good)
    assert network.architecture == "homou" and not network.training
    by_card, _ = load_verified(good.with_suffix(".json"))
    assert by_card.config == network.config


def test_a_tampered_file_is_refused(good):
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    good.write_bytes(bytes(data))
    with pytest.raises(UserInputError, match="does not match its model card.*modified"):
        load_verified(good)


def test_a_truncated_file_is_refused(good):
    good.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(UserInputError, match="truncated"):
        load_verified(good)


def test_weights_of_another_architecture_are_refused(tmp_path):
    homou = build_model(default_config("homou", base_channels=4, levels=2))
    heteu = build_model(default_config("heteu", base_channels=4, levels=2))
    path = tmp_path / "mixed.pt"
    torch.save({"config": homou.config, "state_dict": heteu.state_dict()}, path)
    _card(path)  # the card matches the file: only the architecture check can catch it
    with pytest.raises(UserInputError, match="do not fit a homou network"):
        load_verified(path)
    save_model(heteu, path)
    _card(path)  # card says homou, file holds heteu
    with pytest.raises(UserInputError, match="holds a heteu network but its card says homou"):
        load_verified(path)


def test_files_that_are_not_weights_or_lack_a_card_are_refused(tmp_path, good):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip archive at all")
    _card(junk)
    with pytest.raises(UserInputError, match="not a readable weights file"):
        load_verified(junk)
    lone = tmp_path / "lone.pt"
    shutil.copyfile(good, lone)
    with pytest.raises(UserInputError, match="no model card"):
        load_verified(lone)
    network, info = load_verified(lone, allow_unverified=True)
    assert not info["verified"]
    with pytest.raises(UserInputError, match="neither an installed model"):
        load_verified(tmp_path / "missing.pt")


def test_shipped_models_verify_and_are_small():
    models = available_models()
    if not models:
        pytest.skip("no shipped models installed (run 'make models')")
    assert models[0].name == "homou"  # the headline model is the default
    for entry in models:
        network, info = load_verified(entry.name)
        card = entry.card
        assert info["verified"] and entry.path.stat().st_size < 10e6
        assert card["architecture"] == network.architecture
        for key in ("training_config", "training_data", "metrics", "training_time_s",
                    "sha256", "uncertainty_output"):
            assert key in card, (entry.name, key)
