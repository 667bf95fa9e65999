"""U-Net building blocks with FiLM conditioning on the preparation times.

The times of the two weighted inputs (TSL, TP) enter through FiLM (Perez et al., AAAI
2018): a small MLP embeds ``t / 50 ms`` and every normalisation layer is followed by a
per-channel affine map ``(1 + gamma(t)) * x + beta(t)``. FiLM is used rather than constant
time channels because the per-sample normalisation inside the blocks would subtract a
constant channel away; FiLM re-injects the times after every normalisation, so one
model serves every trained TSL/TP combination.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

#: Times are divided by this before the embedding, so the protocol's 10-51 ms map to ~0.2-1.
TIME_SCALE_MS = 50.0


class TimeEmbedding(nn.Module):
    """Embed ``n_times`` preparation times (ms) into a ``features``-wide vector."""

    def __init__(self, n_times: int, features: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_times, features), nn.SiLU(),
                                 nn.Linear(features, features), nn.SiLU())

    def forward(self, times_ms: torch.Tensor) -> torch.Tensor:
        return self.net(times_ms / TIME_SCALE_MS)


class FiLM(nn.Module):
    """Feature-wise affine modulation; starts as the identity (zero-initialised)."""

    def __init__(self, features: int, channels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, 2 * channels)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def coefficients(self, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1 + gamma, beta), each shaped (B, C)."""
        gamma, beta = self.linear(embedding).chunk(2, dim=1)
        return 1.0 + gamma, beta

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        scale, beta = self.coefficients(embedding)
        return torch.addcmul(beta[:, :, None, None], x, scale[:, :, None, None])


def make_norm(kind: str, channels: int) -> nn.Module:
    """GroupNorm (up to 8 groups), BatchNorm or nothing."""
    if kind == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


class ConvBlock(nn.Module):
    """Two (3x3 conv -> norm -> FiLM -> LeakyReLU) layers.

    FiLM is fused where the algebra allows it, which is most of the CPU inference cost
    of a small U-Net (element-wise passes over full-resolution feature maps): when every
    item of the batch shares its times (``embedding`` has batch size 1, as in inference),
    FiLM folds into the conv weights and bias (no normalisation) or into the GroupNorm
    affine; otherwise it is one ``addcmul`` after the normalisation. The activation runs
    in place when no gradient is needed. The parameters are the same either way.
    """

    def __init__(self, in_channels: int, out_channels: int, features: int, norm: str) -> None:
        super().__init__()
        bias = norm == "none"
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias)
        self.norm1 = make_norm(norm, out_channels)
        self.norm2 = make_norm(norm, out_channels)
        self.film1 = FiLM(features, out_channels)
        self.film2 = FiLM(features, out_channels)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        x = modulated_layer(x, embedding, self.conv1, self.norm1, self.film1)
        return modulated_layer(x, embedding, self.conv2, self.norm2, self.film2)


def modulated_layer(x: torch.Tensor, embedding: torch.Tensor, conv: nn.Conv2d,
                    norm: nn.Module, film: FiLM) -> torch.Tensor:
    """LeakyReLU(FiLM(norm(conv(x)))), with FiLM fused into conv or GroupNorm if possible."""
    scale, beta = film.coefficients(embedding)
    shared = embedding.shape[0] == 1
    if isinstance(norm, nn.Identity) and shared:
        weight = conv.weight * scale[0, :, None, None, None]
        bias = beta[0] if conv.bias is None else torch.addcmul(beta[0], conv.bias, scale[0])
        x = F.conv2d(x, weight, bias, conv.stride, conv.padding)
    elif isinstance(norm, nn.GroupNorm) and norm.affine and shared:
        weight = norm.weight * scale[0]
        bias = torch.addcmul(beta[0], norm.bias, scale[0])
        x = F.group_norm(conv(x), norm.num_groups, weight, bias, norm.eps)
    else:
        x = torch.addcmul(beta[:, :, None, None], norm(conv(x)), scale[:, :, None, None])
    return F.leaky_relu(x, 0.1, inplace=not (x.requires_grad and torch.is_grad_enabled()))


def level_channels(base_channels: int, levels: int) -> list[int]:
    """Feature maps per level: base, 2*base, 4*base, ..."""
    return [base_channels * 2 ** level for level in range(levels)]


class Encoder(nn.Module):
    """Contracting path: a ConvBlock per level with 2x2 max pooling in between."""

    def __init__(self, in_channels: int, channels: list[int], features: int, norm: str) -> None:
        super().__init__()
        inputs = [in_channels] + channels[:-1]
        self.blocks = nn.ModuleList(ConvBlock(a, b, features, norm)
                                    for a, b in zip(inputs, channels, strict=True))

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps of every level, finest first (the last one is the bottleneck)."""
        skips = []
        for index, block in enumerate(self.blocks):
            if index:
                x = F.max_pool2d(x, 2)
            x = block(x, embedding)
            skips.append(x)
        return skips


class Decoder(nn.Module):
    """Expanding path: 2x2 transposed conv, concatenate the skip, ConvBlock; 1x1 head."""

    def __init__(self, channels: list[int], out_channels: int, features: int,
                 norm: str) -> None:
        super().__init__()
        coarse_to_fine = channels[::-1]
        self.ups = nn.ModuleList(nn.ConvTranspose2d(a, b, 2, stride=2)
                                 for a, b in zip(coarse_to_fine[:-1], coarse_to_fine[1:],
                                                 strict=True))
        self.blocks = nn.ModuleList(ConvBlock(2 * b, b, features, norm)
                                    for b in coarse_to_fine[1:])
        self.head = nn.Conv2d(channels[0], out_channels, 1)

    def forward(self, skips: list[torch.Tensor], embedding: torch.Tensor) -> torch.Tensor:
        """Head output at full resolution; the input size must be divisible by 2^(levels-1)."""
        x = skips[-1]
        for up, block, skip in zip(self.ups, self.blocks, skips[-2::-1], strict=True):
            x = block(torch.cat([up(x), skip], dim=1), embedding)
        return self.head(x)
