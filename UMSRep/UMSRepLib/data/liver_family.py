"""The bundled liver-MR task family, generated from the digital liver phantom.

One command (``umsrep make-data``) writes a dataset in the generic layout
(:mod:`.layout`) with four tasks on axial 2-D slices of T1rho/T2-protocol images:

* ``denoise``  - label-free (every image);
* ``liver``    - liver segmentation (the organ including its internal vessels and
  ducts, as anatomical atlases and TotalSegmentator define it);
* ``quality``  - image quality: ``clean`` (SNR 30-80), ``motion`` (k-space ghosting,
  :mod:`.corruption`) or ``noise`` (SNR 4-10); half clean, a quarter each corrupted;
* ``tissue``   - tissue state ``normal`` or ``fibrotic`` (raised liver T1rho/T2,
  :mod:`.tissue_state`), labelled only on clean T1rho- and T2-prepared images, the
  ones that carry the relaxation contrast (the zero-preparation image does not).

Per subject and slice the dataset holds the zero-preparation ("shared") image and the
longest spin-lock and T2-preparation images of the phantom protocol. Subjects, not
slices, are split into train/val/test, so no anatomy is shared between splits. Every
random choice derives from ``seed``; the same config gives the same files.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
from tqdm import tqdm

from QMRIMappingLib.phantom import LABEL_IDS, generate_subject

from ..errors import UserInputError
from .corruption import motion_ghosting
from .layout import DESCRIPTION_FILE, LABELS_FILE
from .tissue_state import add_noise, fibrotic_maps, healthy_maps, noise_sigma, synthesise

QUALITY_CLASSES = ("clean", "motion", "noise")
TISSUE_CLASSES = ("normal", "fibrotic")
#: Quality of consecutive images before shuffling: half clean, a quarter each corrupted.
QUALITY_CYCLE = ("clean", "motion", "clean", "noise")
LIVER_LABELS = ("liver", "hepatic_vein", "portal_vein", "bile_duct")
#: (role, preparation time in ms) of the images kept per slice.
DEFAULT_IMAGES = (("shared", 0.0), ("t1rho", 50.0), ("t2", 51.0))


@dataclass
class FamilyConfig:
    """How many subjects per split and how they are simulated (see the module doc)."""

    subjects: dict[str, int] = field(default_factory=lambda: {"train": 40, "val": 10,
                                                              "test": 12})
    seed: int = 0
    matrix: int = 128
    slices: int = 3
    clean_snr: tuple[float, float] = (30.0, 80.0)
    noisy_snr: tuple[float, float] = (4.0, 10.0)
    shim_artifact_probability: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.subjects, dict) or set(self.subjects) - {"train", "val", "test"}:
            raise UserInputError("data: subjects must map train/val/test to counts")
        for split, count in self.subjects.items():
            if not isinstance(count, int) or count < 0:
                raise UserInputError(f"data: subjects.{split} must be an integer >= 0")
        if self.subjects.get("train", 0) < 2:
            raise UserInputError("data: at least 2 training subjects are needed (one normal, "
                                 "one fibrotic)")
        self.clean_snr = tuple(float(v) for v in self.clean_snr)
        self.noisy_snr = tuple(float(v) for v in self.noisy_snr)
        if not 64 <= int(self.matrix) <= 512:
            raise UserInputError("data: matrix must lie between 64 and 512")
        if not 1 <= int(self.slices) <= 16:
            raise UserInputError("data: slices must lie between 1 and 16")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> FamilyConfig:
        values = dict(values or {})
        values.pop("family", None)
        known = {"subjects", "seed", "matrix", "slices", "clean_snr", "noisy_snr",
                 "shim_artifact_probability"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserInputError(f"unknown data option {unknown[0]!r}; valid: "
                                 f"{', '.join(sorted(known))}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["clean_snr"] = list(self.clean_snr)
        values["noisy_snr"] = list(self.noisy_snr)
        return {"family": "liver-mr", **values}


def make_liver_family(out_dir: str | Path, config: FamilyConfig | None = None,
                      progress: bool = False) -> Path:
    """Write the liver-MR family to ``out_dir`` (must not exist or be empty)."""
    config = config or FamilyConfig()
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise UserInputError(f"output folder {out} exists and is not empty")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks" / "liver").mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    subject_number = 0
    splits = [s for s in ("train", "val", "test") if config.subjects.get(s, 0) > 0]
    total = sum(config.subjects.get(s, 0) for s in splits)
    bar = tqdm(total=total, desc="phantom subjects", disable=not progress, leave=False)
    for split_index, split in enumerate(splits):
        count = config.subjects[split]
        rng = np.random.default_rng([config.seed, 1000 + split_index])
        per_subject = config.slices * len(DEFAULT_IMAGES)
        qualities = [QUALITY_CYCLE[i % len(QUALITY_CYCLE)] for i in range(count * per_subject)]
        rng.shuffle(qualities)
        for number in range(count):
            seed = config.seed * 100_000 + subject_number
            fibrotic = number % 2 == 1
            subject_qualities = qualities[number * per_subject:(number + 1) * per_subject]
            rows += _write_subject(out, split, seed, fibrotic, subject_qualities, config)
            subject_number += 1
            bar.update()
    bar.close()
    _write_labels(out, rows)
    _write_description(out, config)
    return out


def _write_subject(out: Path, split: str, seed: int, fibrotic: bool, qualities: list[str],
                   config: FamilyConfig) -> list[dict[str, Any]]:
    rng = np.random.default_rng([seed, 77])
    shim = bool(rng.random() < config.shim_artifact_probability)
    subject = generate_subject(seed, matrix=config.matrix, n_slices=config.slices,
                               snr=float("inf"), shim_artifact=shim)
    maps = fibrotic_maps(subject, rng) if fibrotic else healthy_maps(subject)
    liver = np.isin(subject.labels, [LABEL_IDS[name] for name in LIVER_LABELS])
    pixel_mm = float(subject.geometry.spacing[0])
    # Each subject gets a clean prepared image so every subject has a tissue label.
    prepared = [i for i, (_, (role, _t)) in enumerate(
        (q, spec) for q in range(config.slices) for spec in DEFAULT_IMAGES) if role != "shared"]
    if not any(qualities[i] == "clean" for i in prepared):
        qualities[prepared[0]] = "clean"
    rows = []
    item = 0
    for k in range(config.slices):
        for role, time_ms in DEFAULT_IMAGES:
            quality = qualities[item]
            item += 1
            clean = synthesise(subject, maps, role, time_ms)[k]
            if quality == "motion":
                clean = motion_ghosting(clean, pixel_mm, rng)
            snr_range = config.noisy_snr if quality == "noise" else config.clean_snr
            snr = float(rng.uniform(*snr_range))
            image = add_noise(clean[np.newaxis], noise_sigma(subject, snr), rng)[0]
            name = f"{split}_s{seed:06d}_z{k}_{role}{int(round(time_ms))}"
            _write_2d(out / "images" / f"{name}.nii.gz", image.astype(np.float32), subject)
            _write_2d(out / "masks" / "liver" / f"{name}.nii.gz",
                      liver[k].astype(np.uint8), subject)
            tissue = ""
            if role != "shared" and quality == "clean":
                tissue = TISSUE_CLASSES[int(fibrotic)]
            rows.append({"image": f"{name}.nii.gz", "split": split, "quality": quality,
                         "tissue": tissue, "_subject": seed, "_slice": k, "_role": role,
                         "_time_ms": time_ms, "_snr": round(snr, 2),
                         "_t1rho_factor": round(maps.t1rho_factor, 3),
                         "_t2_factor": round(maps.t2_factor, 3), "_shim_artifact": int(shim)})
    return rows


def _write_2d(path: Path, array: np.ndarray, subject) -> None:
    image = sitk.GetImageFromArray(array)
    spacing = subject.geometry.spacing
    origin = subject.geometry.origin
    image.SetSpacing((float(spacing[0]), float(spacing[1])))
    image.SetOrigin((float(origin[0]), float(origin[1])))
    sitk.WriteImage(image, str(path), useCompression=True)


def _write_labels(out: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    with (out / LABELS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _write_description(out: Path, config: FamilyConfig) -> None:
    import yaml

    description = {
        "name": "liver-mr-phantom",
        "modality": "MR, liver T1rho/T2 protocol (digital phantom, 3 T)",
        "tasks": {"liver": {"kind": "segmentation"},
                  "quality": {"kind": "classification", "classes": list(QUALITY_CLASSES)},
                  "tissue": {"kind": "classification", "classes": list(TISSUE_CLASSES)}},
        "generated_by": "umsrep make-data (UMSRepLib.data.liver_family)",
        "config": config.to_dict(),
    }
    (out / DESCRIPTION_FILE).write_text(yaml.safe_dump(description, sort_keys=False),
                                        encoding="utf-8")
    (out / "README.json").write_text(json.dumps({"note": "synthetic data from the "
                                                 "SlicerMultiTaskQMRI digital liver phantom; "
                                                 "not patient data"}, indent=2) + "\n")
