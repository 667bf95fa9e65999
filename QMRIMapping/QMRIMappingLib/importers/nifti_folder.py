"""NIfTI inputs with dcm2niix-style JSON sidecars -> candidate volumes.

Two layouts are read:

* a folder of 3-D NIfTI files, each with a sidecar of the same stem (``x.nii.gz`` +
  ``x.json``), as dcm2niix writes them — one file per echo or per preparation time;
* a 4-D NIfTI (a file, or a folder holding it) whose single sidecar lists one time per
  volume: ``EchoTime`` (multi-echo), and/or ``SpinLockTime`` and ``T2PrepTime`` (prepared),
  all in seconds, with ``null`` where a preparation is absent in a volume.

Times come from the sidecars only — never from the file order or names (dcm2niix names
echoes ``_e1``, ``_e3`` ... and lexical order is not time order). The rules are in
:mod:`.time_rules` (``sidecar_decisions``). A NIfTI without a sidecar is skipped with a
note. Files are only read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..errors import UserInputError
from ..geometry import Geometry
from ..image_io import read_nifti_voxels
from .time_rules import sidecar_decisions
from .volume import Volume, relative_paths

NIFTI_SUFFIXES = (".nii.gz", ".nii")


def is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def nifti_stem(path: Path) -> str:
    name = path.name
    for suffix in NIFTI_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def sidecar_path(path: Path) -> Path:
    return path.with_name(nifti_stem(path) + ".json")


def nifti_volumes(root: Path, files: list[Path]) -> tuple[list[Volume], list[str]]:
    """Candidate volumes of the NIfTI ``files`` under ``root`` and notes on skipped ones."""
    volumes: list[Volume] = []
    notes: list[str] = []
    missing: list[str] = []
    for path in files:
        rel = _relative(path, root)
        sidecar_file = sidecar_path(path)
        if not sidecar_file.is_file():
            missing.append(rel)
            continue
        sidecar = _read_sidecar(sidecar_file)
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        try:
            reader.ReadImageInformation()
        except RuntimeError as error:
            notes.append(f"skipped {rel}: SimpleITK cannot read it ({_first_line(error)})")
            continue
        dimension = reader.GetDimension()
        if dimension > 4 or dimension < 2:
            notes.append(f"skipped {rel}: {dimension}-D image (3-D or 4-D expected)")
            continue
        n_volumes = reader.GetSize()[3] if dimension == 4 else 1
        geometry = Geometry.from_sitk(reader)
        decisions = sidecar_decisions(sidecar, n_volumes, sidecar_file.name)
        load = _Loader(path)
        for index, decision in enumerate(decisions):
            suffix = "" if n_volumes == 1 else f"[{index}]"
            volume = Volume(
                label=f"{path.name}{suffix}",
                files=[path],
                geometry=geometry,
                load=load.volume(index if dimension == 4 else None),
                keys=[f"{path.name}{suffix}", f"{nifti_stem(path)}{suffix}", f"{rel}{suffix}"]
                + [str(v) for v in (sidecar.get("SeriesNumber"), sidecar.get("SeriesDescription"))
                   if v not in (None, "")],
                paths=relative_paths([path], root),
                info=_info(sidecar, rel, sidecar_file.name, n_volumes),
                group_key=_group_key(sidecar),
            )
            volume.apply_decision(decision)
            volumes.append(volume)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more"
                                          if len(missing) > 5 else "")
        notes.append(f"skipped {len(missing)} NIfTI file(s) without a JSON sidecar (the times "
                     f"come from the sidecar): {shown}")
    return volumes, notes


class _Loader:
    """Reads a NIfTI once and hands out its volumes (a 4-D file feeds several)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._array: np.ndarray | None = None

    def volume(self, index: int | None):
        def load() -> tuple[np.ndarray, str]:
            if self._array is None:
                self._array = read_nifti_voxels(self.path)
            array = self._array if index is None else self._array[index]
            if array.ndim == 2:
                array = array[np.newaxis]
            return np.ascontiguousarray(array), ""
        return load


def _read_sidecar(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise UserInputError(f"cannot read sidecar {path}: {_first_line(error)}; fix the JSON "
                             "or remove the file") from None
    if not isinstance(data, dict):
        raise UserInputError(f"sidecar {path} is not a JSON object; dcm2niix sidecars are "
                             "{\"key\": value} objects")
    return data


def _info(sidecar: dict, rel: str, sidecar_name: str, n_volumes: int) -> dict:
    def text(key: str) -> str:
        value = sidecar.get(key, "")
        return "\\".join(map(str, value)) if isinstance(value, list) else str(value or "")

    return {
        "format": "NIfTI + JSON sidecar",
        "first_file": rel,
        "files": [rel],
        "sidecar": sidecar_name,
        "n_volumes_in_file": n_volumes,
        "series_number": sidecar.get("SeriesNumber"),
        "description": text("SeriesDescription"),
        "protocol": text("ProtocolName"),
        "manufacturer": text("Manufacturer"),
        "modality": text("Modality"),
        "scanning_sequence": text("ScanningSequence"),
        "sequence_variant": text("SequenceVariant"),
        "sequence_name": text("SequenceName"),
        "pulse_sequence_name": text("PulseSequenceDetails"),
        "echo_pulse_sequence": "",
        "image_type": text("ImageType"),
    }


def _group_key(sidecar: dict) -> tuple:
    """Files whose sidecars share a description (digits ignored) form one echo set.

    File names are not used: sidecars without a description all fall in one group, and a
    grid that differs is then reported by the geometry check, naming both files.
    """
    text = str(sidecar.get("SeriesDescription") or sidecar.get("ProtocolName") or "")
    return ("nifti", re.sub(r"\d+(?:\.\d+)?", "#", text.lower()).strip())


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
