"""Task descriptions: what a head predicts and how it is trained and scored.

Three kinds, as in UMS-Rep: image-to-image restoration (``denoise``: the decoder of the
denoising autoencoder), pixel-wise ``segmentation`` (binary, a decoder head trained with
BCE + Dice) and image-level ``classification`` (global average pooling head trained
with categorical cross-entropy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import UserInputError

KINDS = ("denoise", "segmentation", "classification")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class TaskSpec:
    """One task: a unique lower-case ``name``, its ``kind`` and, for classification, the
    ordered class names (index i of the softmax is ``classes[i]``)."""

    name: str
    kind: str
    classes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise UserInputError(f"task name {self.name!r} must be lower-case letters, digits "
                                 "or _ and start with a letter (at most 32 characters)")
        if self.kind not in KINDS:
            raise UserInputError(f"task {self.name!r}: kind must be one of {', '.join(KINDS)}, "
                                 f"got {self.kind!r}")
        classes = tuple(str(c) for c in self.classes)
        object.__setattr__(self, "classes", classes)
        if self.kind == "classification":
            if len(classes) < 2:
                raise UserInputError(f"classification task {self.name!r} needs at least two "
                                     f"classes, got {list(classes)}")
            if len(set(classes)) != len(classes):
                raise UserInputError(f"task {self.name!r} lists a class twice: {list(classes)}")
        elif classes:
            raise UserInputError(f"{self.kind} task {self.name!r} takes no class names")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "classes": list(self.classes)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TaskSpec:
        if not isinstance(values, dict) or "name" not in values or "kind" not in values:
            raise UserInputError(f"a task must be a mapping with 'name' and 'kind', got {values!r}")
        return cls(name=values["name"], kind=values["kind"],
                   classes=tuple(values.get("classes") or ()))


DENOISE = TaskSpec("denoise", "denoise")
