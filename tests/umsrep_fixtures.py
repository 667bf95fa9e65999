"""Small models and data for the UMSRep tests: everything trains in well under a second.

* :func:`tiny_spec` - a 32 x 32, three-level architecture (a few thousand parameters);
* :func:`synthetic_slices` - an in-memory SliceSet with all four task kinds: bright
  discs (segmentation targets), a class that depends on the disc's brightness and one
  on the noise level;
* :func:`tiny_config` - a MultiTaskLib TrainConfig for one or two quick epochs;
* ``phantom_dataset`` - a session fixture: the bundled liver-MR family at its smallest
  (8 subjects, one slice each, 64 x 64 phantom), written once in the generic layout.
"""

from __future__ import annotations

import numpy as np
import pytest

from MultiTaskLib.config import TrainConfig
from UMSRepLib.data.slices import SliceSet
from UMSRepLib.networks import ArchitectureSpec
from UMSRepLib.tasks import DENOISE, TaskSpec

SIZE = 32
LIVER = TaskSpec("liver", "segmentation")
QUALITY = TaskSpec("quality", "classification", ("clean", "noise"))
BRIGHT = TaskSpec("bright", "classification", ("dim", "bright"))

TINY_CONFIG_YAML = """\
name: tiny
threads: 1
augment: false
architecture: {image_size: 32, widths: [4, 8, 16], seg_widths: [8, 4], classifier_hidden: 8,
               field_of_view_mm: 380.0}
pretrain: {epochs: 1, batch_size: 16, patience: null}
finetune: {strategy: independent, tasks: [liver, quality], train: {epochs: 1, batch_size: 16}}
"""


def tiny_spec(**changes) -> ArchitectureSpec:
    values = {"image_size": SIZE, "widths": (4, 8, 16), "seg_widths": (8, 4),
              "classifier_hidden": 8, "dropout": 0.0, "field_of_view_mm": None}
    values.update(changes)
    return ArchitectureSpec(**values)


def tiny_config(epochs: int = 1, **changes) -> TrainConfig:
    values = {"epochs": epochs, "batch_size": 8, "lr": 3e-3, "progress": False,
              "device": "cpu", "log_csv": None, "monitor": "sum", "seed": 0}
    values.update(changes)
    return TrainConfig(**values)


def synthetic_slices(count: int = 24, seed: int = 0, split: str = "train") -> SliceSet:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    images, masks, quality, bright = [], [], [], []
    for index in range(count):
        cy, cx, radius = rng.uniform(10, 22), rng.uniform(10, 22), rng.uniform(4, 8)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2) < radius ** 2
        level = 1.0 if index % 2 else 0.5
        noisy = index % 4 >= 2
        image = 0.2 + level * disc + rng.normal(0, 0.3 if noisy else 0.02, disc.shape)
        images.append(image.astype(np.float32))
        masks.append(disc.astype(np.uint8))
        quality.append(int(noisy))
        bright.append(index % 2)
    return SliceSet(images=np.stack(images), split=np.array([split] * count),
                    case=np.array([f"c{i}" for i in range(count)]),
                    slice_index=np.zeros(count, int), tasks=[DENOISE, LIVER, QUALITY, BRIGHT],
                    masks={"liver": np.stack(masks)},
                    labels={"quality": np.array(quality), "bright": np.array(bright)})


@pytest.fixture(scope="session")
def phantom_dataset(tmp_path_factory):
    """The liver-MR family at its smallest, generated once per test session."""
    from UMSRepLib.data.liver_family import FamilyConfig, make_liver_family

    out = tmp_path_factory.mktemp("umsrep") / "liver_mr"
    config = FamilyConfig(subjects={"train": 4, "val": 2, "test": 2}, seed=3, matrix=64,
                          slices=1)
    return make_liver_family(out, config)
