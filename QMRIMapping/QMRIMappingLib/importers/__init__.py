"""Series importers: turn a DICOM folder or NIfTI files into a :class:`MappingInput`.

``load_input(path)`` accepts

* a DICOM folder (any nesting; non-DICOM files are skipped with a note),
* a folder of dcm2niix NIfTI files, each with its JSON sidecar,
* a 4-D NIfTI file (or a folder holding one) whose sidecar lists one time per volume.

The steps are the same for all: find candidate volumes, give each a time and role by the
documented rules (:mod:`.time_rules`), let the override file win (:mod:`.overrides`),
choose the mapping set (:mod:`.roles`), check it (:mod:`.validation`) and only then read
the pixels. Every image carries a reason string; :func:`describe_input` prints them.
Input files are opened read-only and never modified.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserInputError
from ..mapping_input import MappingInput, WeightedImage
from .describe import describe_input
from .dicom_input import dicom_volumes
from .dicom_scan import looks_like_dicom
from .dicom_volume import read_dicom_series
from .nifti_folder import is_nifti, nifti_volumes, sidecar_path
from .overrides import apply_overrides, load_overrides
from .progress import progress_iter
from .roles import parse_echo_map, select_mapping_set
from .time_rules import BUILTIN_PRIVATE_TAGS
from .validation import check_geometry, check_times, check_values
from .volume import Volume

__all__ = ["describe_input", "load_input", "read_dicom_series"]

INPUT_KINDS = ("a DICOM folder, a folder of NIfTI files with JSON sidecars, or a 4-D NIfTI "
               "file with a JSON sidecar")


def load_input(path: str | Path, *, override_file: str | Path | None = None,
               echo_map: str | None = None, progress: bool = False) -> MappingInput:
    """Read ``path`` into a :class:`MappingInput` ready to fit.

    ``override_file`` (CSV ``series,time_ms,role``, or JSON/YAML) sets times and roles that
    always win; ``echo_map`` (``"T2"``/``"T2star"``) overrides the spin-/gradient-echo
    decision of a multi-echo input; ``progress`` draws tqdm bars. Raises
    :class:`UserInputError` with a one-line message for anything the user can fix.
    """
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"input {path} does not exist; give {INPUT_KINDS}")
    requested = parse_echo_map(echo_map)
    overrides = load_overrides(override_file) if override_file is not None else None
    rules = BUILTIN_PRIVATE_TAGS + tuple(overrides.private_tags if overrides else ())
    volumes, notes, input_format, release = _collect(path, rules, progress)
    if overrides is not None:
        notes += apply_overrides(volumes, overrides)
    selection = select_mapping_set(volumes, requested, str(path))
    check_times(selection, str(path))
    check_geometry(selection.volumes)
    images = []
    try:
        for volume in progress_iter(selection.volumes, progress, "Reading images"):
            data, scaling = volume.load()
            check_values(volume, data)
            images.append(_weighted_image(volume, data, scaling, input_format))
            notes += [f"{volume.label}: {note}" for note in volume.info.get("geometry_notes", [])]
    finally:
        release()
    return MappingInput(images=images, kind=selection.kind, source=str(path),
                        echo_map=selection.echo_map, echo_map_reason=selection.echo_map_reason,
                        notes=notes + selection.notes)


def _collect(path: Path, rules: tuple, progress: bool):
    """Candidate volumes, notes, a format label and a function releasing cached pixels."""
    if path.is_file():
        if is_nifti(path):
            if not sidecar_path(path).is_file():
                raise UserInputError(
                    f"{path} has no JSON sidecar {sidecar_path(path).name}; it must list the "
                    "times (EchoTime, or SpinLockTime/T2PrepTime, in seconds)")
            volumes, notes = nifti_volumes(path.parent, [path])
            return volumes, notes, "NIfTI file + JSON sidecar", _nothing
        if looks_like_dicom(path):
            volumes, notes, cache = dicom_volumes(path.parent, [path], rules, progress)
            return volumes, notes, "DICOM file", cache.clear
        raise UserInputError(f"{path} is neither NIfTI (.nii/.nii.gz) nor DICOM; give "
                             f"{INPUT_KINDS}")
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if not files:
        raise UserInputError(f"input folder {path} is empty; give {INPUT_KINDS}")
    niftis = [p for p in files if is_nifti(p)]
    if niftis:
        others = [p for p in files if not is_nifti(p) and p.suffix.lower() != ".json"]
        if any(looks_like_dicom(p) for p in others):
            raise UserInputError(f"{path} holds both NIfTI and DICOM files; point at a folder "
                                 "with one kind")
        volumes, notes = nifti_volumes(path, niftis)
        if others:
            notes.append(f"skipped {len(others)} file(s) that are neither NIfTI nor JSON: "
                         + ", ".join(p.name for p in others[:5]))
        _require(volumes, notes, path)
        kind = ("4-D NIfTI + JSON sidecar" if len(niftis) == 1
                and volumes and volumes[0].info.get("n_volumes_in_file", 1) > 1
                else "NIfTI folder with JSON sidecars")
        return volumes, notes, kind, _nothing
    volumes, notes, cache = dicom_volumes(path, files, rules, progress)
    _require(volumes, notes, path)
    n_series = len({v.info.get("series_uid") or v.label for v in volumes})
    return volumes, notes, f"DICOM folder ({len(files)} files, {n_series} series)", cache.clear


def _require(volumes: list[Volume], notes: list[str], path: Path) -> None:
    if not volumes:
        detail = f" ({'; '.join(notes[:2])})" if notes else ""
        raise UserInputError(f"no usable images in {path}{detail}; give {INPUT_KINDS}")


def _weighted_image(volume: Volume, data, scaling: str, input_format: str) -> WeightedImage:
    reason = f"{volume.time_reason}; role {volume.role_reason}"
    info = volume.info
    metadata = {
        "input_format": input_format,
        "files": list(info.get("files", [])),
        "first_file": volume.first_file,
        "time_source": volume.time_source,
        "scaling": scaling,
    }
    for key in ("series_uid", "series_number", "description", "protocol", "manufacturer",
                "echo_time_ms", "sidecar", "scanning_sequence"):
        if info.get(key) not in (None, ""):
            metadata[key] = info[key]
    return WeightedImage(data=data, time_ms=float(volume.time_ms), role=volume.role,
                         source=volume.describe_source(), geometry=volume.geometry,
                         reason=reason, metadata=metadata)


def _nothing() -> None:
    return None
