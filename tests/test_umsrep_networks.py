"""UMS-Rep networks: shapes, strided encoder without pooling, heads that attach later,
and an encoder that stays put when frozen."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from UMSRepLib.errors import UserInputError
from UMSRepLib.networks import ArchitectureSpec, build_encoder, build_head, build_model
from UMSRepLib.networks import decoders as decoders_module
from UMSRepLib.networks import encoder as encoder_module
from UMSRepLib.tasks import DENOISE, TaskSpec
from UMSRepLib.training.strategies import attach_heads

from .umsrep_fixtures import BRIGHT, LIVER, QUALITY, SIZE, tiny_spec


def test_every_head_has_the_right_output_shape():
    spec = tiny_spec()
    model = build_model(spec, [DENOISE, LIVER, QUALITY])
    x = torch.randn(3, 1, SIZE, SIZE)
    assert model(x, task="denoise").shape == (3, 1, SIZE, SIZE)
    assert model(x, task="liver").shape == (3, 1, SIZE, SIZE)
    assert model(x, task="quality").shape == (3, 2)
    features = model.encoder(x)
    assert [f.shape[-1] for f in features] == [SIZE, SIZE // 2, SIZE // 4]
    assert [f.shape[1] for f in features] == list(spec.widths)
    both = model({"liver": x, "quality": x[:2]})
    assert set(both) == {"liver", "quality"} and both["quality"].shape == (2, 2)


def test_encoder_downsamples_with_strided_convolutions_not_pooling():
    encoder = build_encoder(ArchitectureSpec())
    pooling = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
               nn.LPPool2d)
    assert not [m for m in encoder.modules() if isinstance(m, pooling)]
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.kernel_size == (3, 3) for m in convs)
    assert sum(m.stride == (2, 2) for m in convs) == len(ArchitectureSpec().widths) - 1
    # every convolution is followed by batch norm and ReLU
    assert sum(isinstance(m, nn.BatchNorm2d) for m in encoder.modules()) == len(convs)
    assert sum(isinstance(m, nn.ReLU) for m in encoder.modules()) == len(convs)


def test_denoising_decoder_mirrors_the_encoder():
    spec = ArchitectureSpec()
    decoder = build_head(DENOISE, spec)
    ups = [m for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in ups] == [(64, 32), (32, 16), (16, 8)]


def test_channels_last_layout_is_used_and_leaves_the_outputs_unchanged(monkeypatch):
    """The model runs its convolutions channels-last (faster on CPU); the numbers must be
    those of the same weights in the default layout, for every kind of head, also when a
    head is fed stored (default-layout) encoder features. Two input channels, so that
    the default-layout reference is unambiguous (with one channel both layouts coincide)."""
    spec = dataclasses.replace(tiny_spec(), in_channels=2)
    torch.manual_seed(2)
    model = build_model(spec, [DENOISE, LIVER, QUALITY]).eval()
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    x = torch.randn(4, 2, SIZE, SIZE)
    with torch.no_grad():
        assert model.encoder(x)[0].is_contiguous(memory_format=torch.channels_last)
        fast = {task: model(x, task=task) for task in ("denoise", "liver", "quality")}
        from_stored = model.heads["liver"]([level.contiguous() for level in model.encoder(x)])
        # the same weights and activations in the default layout
        for module in model.modules():
            for name, parameter in module.named_parameters(recurse=False):
                setattr(module, name, nn.Parameter(parameter.detach().contiguous()))
        for module in (encoder_module, decoders_module):
            monkeypatch.setattr(module, "channels_last", lambda tensor: tensor.contiguous())
        assert all(level.is_contiguous() for level in model.encoder(x))
        reference = {task: model(x, task=task) for task in fast}
    for task in fast:
        torch.testing.assert_close(fast[task], reference[task], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(from_stored, fast["liver"], rtol=1e-4, atol=1e-5)


def test_attaching_heads_leaves_the_encoder_weights_unchanged():
    spec = tiny_spec()
    torch.manual_seed(1)
    model = build_model(spec, [DENOISE])
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    attach_heads(model, [LIVER, QUALITY, BRIGHT], spec, seed=5)
    model.add_head(TaskSpec("extra", "classification", ("a", "b", "c")),
                   build_head(TaskSpec("extra", "classification", ("a", "b", "c")), spec))
    after = model.encoder.state_dict()
    assert set(model.heads) == {"denoise", "liver", "quality", "bright", "extra"}
    assert all(torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(ValueError):
        model.add_head(LIVER, build_head(LIVER, spec))


def test_frozen_encoder_ignores_train_mode_and_gradients():
    spec = tiny_spec()
    model = build_model(spec, [QUALITY])
    model.encoder.freeze()
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    model.train()
    assert not model.encoder.training and model.heads["quality"].training
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    loss = model(torch.randn(4, 1, SIZE, SIZE) * 3 + 2, task="quality").sum()
    loss.backward()
    optimizer.step()
    after = model.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics included
    model.encoder.unfreeze()
    model.train()
    assert model.encoder.training and all(p.requires_grad for p in model.encoder.parameters())


@pytest.mark.parametrize("changes, words", [
    ({"image_size": 30}, "multiple of 4"),
    ({"widths": (8,)}, "widths"),
    ({"seg_widths": (8,)}, "seg_widths"),
    ({"dropout": 1.0}, "dropout"),
])
def test_bad_architecture_is_a_one_line_error(changes, words):
    with pytest.raises(UserInputError, match=words):
        tiny_spec(**changes)
    with pytest.raises(UserInputError, match="unknown architecture option"):
        ArchitectureSpec.from_dict({"width": [1, 2]})
