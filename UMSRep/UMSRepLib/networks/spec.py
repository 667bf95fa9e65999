"""Architecture of a UMS-Rep model: the numbers the encoder and heads are built from.

The spec is stored in every model bundle, and a weight file is only accepted when its
tensors have exactly the shapes this spec gives (see :mod:`UMSRepLib.model_files`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import UserInputError


@dataclass(frozen=True)
class ArchitectureSpec:
    """Sizes of the shared encoder and of the heads.

    ``widths``: channels of the encoder levels; level 0 keeps the input resolution and
    every further level halves it with a stride-2 3x3 convolution (the paper's strided
    convolutions in place of pooling), so ``image_size`` must be divisible by
    2^(levels-1). The denoising decoder mirrors ``widths`` (symmetric autoencoder).
    ``seg_widths``: channels of the segmentation decoder's up-sampling stages (one per
    level below the top); ``seg_skips`` feeds it the encoder's features of each level
    (U-Net style) so the shared, frozen encoder also supplies the fine detail that a
    12-pixel bottleneck loses. ``classifier_hidden`` and ``dropout`` size the classifier;
    ``classifier_levels`` is ``"last"`` (global average pooling of the bottleneck, as in
    the paper) or ``"all"`` (of every encoder level, concatenated; see
    :mod:`.classifier`); ``classifier_pooling`` is ``"mean"`` (the paper's global
    average pooling) or ``"mean_std"`` (adds each channel's standard deviation).
    ``field_of_view_mm``: the square field of view the model expects; inputs with a
    known pixel spacing are resampled to it (None: pad to square and resize).
    """

    in_channels: int = 1
    image_size: int = 64
    widths: tuple[int, ...] = (8, 16, 32, 64)
    seg_widths: tuple[int, ...] = (16, 8, 8)
    seg_skips: bool = True
    classifier_hidden: int = 32
    dropout: float = 0.3
    classifier_levels: str = "all"
    classifier_pooling: str = "mean"
    field_of_view_mm: float | None = 380.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "seg_widths", tuple(int(w) for w in self.seg_widths))
        if self.in_channels < 1:
            raise UserInputError(f"architecture: in_channels must be >= 1, got {self.in_channels}")
        if len(self.widths) < 2 or any(w < 1 for w in self.widths):
            raise UserInputError(f"architecture: widths needs >= 2 positive channel counts, "
                                 f"got {list(self.widths)}")
        if len(self.seg_widths) != len(self.widths) - 1 or any(w < 1 for w in self.seg_widths):
            raise UserInputError(f"architecture: seg_widths needs {len(self.widths) - 1} positive "
                                 f"channel counts (one per up-sampling stage), got "
                                 f"{list(self.seg_widths)}")
        factor = 2 ** (len(self.widths) - 1)
        if self.image_size < factor * 2 or self.image_size % factor:
            raise UserInputError(f"architecture: image_size {self.image_size} must be a multiple "
                                 f"of {factor} and at least {2 * factor} for {len(self.widths)} "
                                 "encoder levels")
        if not 0.0 <= self.dropout < 1.0:
            raise UserInputError(f"architecture: dropout must lie in [0, 1), got {self.dropout}")
        if self.classifier_levels not in ("last", "all"):
            raise UserInputError(f"architecture: classifier_levels must be 'last' or 'all', "
                                 f"got {self.classifier_levels!r}")
        if self.classifier_pooling not in ("mean", "mean_std"):
            raise UserInputError(f"architecture: classifier_pooling must be 'mean' or "
                                 f"'mean_std', got {self.classifier_pooling!r}")
        if self.classifier_hidden < 1:
            raise UserInputError("architecture: classifier_hidden must be >= 1")
        if self.field_of_view_mm is not None and not self.field_of_view_mm > 0:
            raise UserInputError("architecture: field_of_view_mm must be positive or null")

    @property
    def levels(self) -> int:
        return len(self.widths)

    @property
    def bottleneck_size(self) -> int:
        return self.image_size // 2 ** (self.levels - 1)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["widths"] = list(self.widths)
        values["seg_widths"] = list(self.seg_widths)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> ArchitectureSpec:
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserInputError(f"unknown architecture option {unknown[0]!r}; valid: "
                                 f"{', '.join(sorted(known))}")
        try:
            return cls(**values)
        except TypeError as error:
            raise UserInputError(f"bad architecture options: {error}") from None
