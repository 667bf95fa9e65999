"""Model bundles: round trip, and refusal of tampered, truncated, foreign and
wrong-architecture files (checked before torch.load, which uses weights_only=True)."""

from __future__ import annotations

import json
import shutil
from unittest import mock

import pytest
import torch

from UMSRepLib import model_files
from UMSRepLib.errors import ModelFileError
from UMSRepLib.model_files import CARD, load_bundle, resolve_bundle, save_bundle
from UMSRepLib.networks import build_model
from UMSRepLib.noise import NoiseModel
from UMSRepLib.tasks import DENOISE

from .umsrep_fixtures import LIVER, QUALITY, tiny_spec


@pytest.fixture
def bundle(tmp_path):
    torch.manual_seed(3)
    model = build_model(tiny_spec(), [DENOISE, LIVER, QUALITY]).eval()
    path = save_bundle(model, tmp_path / "model", tiny_spec(), NoiseModel(), name="tiny",
                       encoder_state="pretrained", training={"stages": []})
    return model, path


def test_round_trip_gives_the_same_outputs(bundle):
    model, path = bundle
    loaded = load_bundle(path)
    x = torch.randn(2, 1, 32, 32)
    for task in ("denoise", "liver", "quality"):
        assert torch.equal(model(x, task=task), loaded.model(x, task=task))
    card = json.loads((path / CARD).read_text())
    assert set(card["files"]) == {"encoder.pt", "head_denoise.pt", "head_liver.pt",
                                  "head_quality.pt"}
    assert all(len(entry["sha256"]) == 64 for entry in card["files"].values())
    assert card["parameters"]["total"] == sum(p.numel() for p in model.parameters())
    assert all(p.stat().st_size < 10 * 2**20 for p in path.iterdir())


def test_weights_are_read_with_weights_only(bundle):
    _, path = bundle
    real = torch.load
    with mock.patch.object(model_files.torch, "load", wraps=real) as spy:
        load_bundle(path)
    assert spy.call_count == 4
    assert all(call.kwargs.get("weights_only") is True for call in spy.call_args_list)


def test_tampered_file_is_refused_before_unpickling(bundle):
    _, path = bundle
    for name in ("encoder.pt", "head_liver.pt"):
        data = bytearray((path / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (path / name).write_bytes(bytes(data))
        with mock.patch.object(model_files.torch, "load", wraps=torch.load) as spy:
            with pytest.raises(ModelFileError, match="does not match its SHA-256") as error:
                load_bundle(path)
        assert spy.call_count == (0 if name == "encoder.pt" else 2)  # never the bad file
        assert name in str(error.value) and "\n" not in str(error.value)
        data[len(data) // 2] ^= 0xFF
        (path / name).write_bytes(bytes(data))


def test_truncated_file_is_refused(bundle):
    _, path = bundle
    data = (path / "encoder.pt").read_bytes()
    (path / "encoder.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFileError, match="truncated"):
        load_bundle(path)


def test_wrong_architecture_is_refused(bundle, tmp_path):
    _, path = bundle
    card = json.loads((path / CARD).read_text())
    card["architecture"]["widths"] = [8, 16, 32]
    (path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="another architecture.*shape"):
        load_bundle(path)
    # a weight file of another head swapped in (and its checksum forged) is refused too
    other = tmp_path / "other"
    shutil.copytree(path, other)
    card["architecture"]["widths"] = [4, 8, 16]
    (other / "head_liver.pt").write_bytes((other / "head_quality.pt").read_bytes())
    card["files"]["head_liver.pt"] = card["files"]["head_quality.pt"]
    (other / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="not the UMSRep head weights"):
        load_bundle(other)


def test_missing_or_unlisted_files_and_bad_cards(bundle, tmp_path):
    _, path = bundle
    card = json.loads((path / CARD).read_text())
    del card["files"]["head_quality.pt"]
    (path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="lists no checksum for head_quality.pt"):
        load_bundle(path)
    (path / CARD).write_text("{not json")
    with pytest.raises(ModelFileError, match="cannot read"):
        load_bundle(path)
    with pytest.raises(ModelFileError, match="model.json is missing"):
        load_bundle(tmp_path)
    with pytest.raises(ModelFileError, match="no model folder"):
        resolve_bundle("no-such-model")


def test_existing_folder_is_not_overwritten_silently(bundle):
    model, path = bundle
    with pytest.raises(ModelFileError, match="--overwrite"):
        save_bundle(model, path, tiny_spec(), NoiseModel(), name="x", encoder_state="x")
    save_bundle(model.subset(["liver"]), path, tiny_spec(), NoiseModel(), name="x",
                encoder_state="x", overwrite=True)
    assert not (path / "head_quality.pt").exists()  # stale heads are removed
    assert list(load_bundle(path).model.heads) == ["liver"]
