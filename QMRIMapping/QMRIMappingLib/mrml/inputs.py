"""Weighted images in the scene -> :class:`~..mapping_input.MappingInput`, and back.

The user picks weighted volumes (or a sequence node) and confirms one preparation time and
role per image in the module's table. :class:`InputRow` is one line of that table. Its
first guess comes from what the node carries: ``QMRI.TimeMs``/``QMRI.Role`` attributes
(written by the folder import and by every run, so a saved scene remembers them), else
the same description rules the DICOM importer applies to a series description
(``"WIP T1rho_TSL10ms SENSE"``, ``"T2prep 18.2ms"``), which is what Slicer's DICOM module
puts into a volume's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserInputError
from ..importers import load_input
from ..importers.time_rules import decide_prepared, parse_text
from ..mapping_input import ROLES, MappingInput, WeightedImage
from . import hierarchy, volumes

TIME_ATTRIBUTE = "QMRI.TimeMs"
ROLE_ATTRIBUTE = "QMRI.Role"
REASON_ATTRIBUTE = "QMRI.TimeReason"
SOURCE_FILES_ATTRIBUTE = "QMRI.SourceFiles"
ECHO_MAP_ATTRIBUTE = "QMRI.EchoMap"


@dataclass
class InputRow:
    """One weighted image: its node, time in ms and role (``shared``/``t1rho``/``t2``/``echo``).

    ``time_ms``/``role`` are None while unknown; the run refuses such rows with a message
    naming the node. ``reason`` says where the guess came from.
    """

    node: object
    time_ms: float | None
    role: str | None
    reason: str = ""
    index_value: str | None = None
    metadata: dict = field(default_factory=dict)
    owner: object = None  # the sequence node holding ``node``, which lives outside the scene

    @property
    def scene_node(self):
        """The node that stands for this image in the scene (itself, or its sequence)."""
        return self.owner if self.owner is not None else self.node

    @property
    def name(self) -> str:
        return self.node.GetName() if self.node is not None else "?"


def guess_time_and_role(text: str) -> tuple[float | None, str | None, str]:
    """Time (ms), role and reason read from a description or node name, as the importer does."""
    match = parse_text([("name", text or "")])
    if match.problem:
        return None, None, match.problem
    if not match.named and not match.times:
        return None, None, "the name names no spin-lock or T2 preparation"
    decision = decide_prepared(match.times, match.named, "name", text)
    if decision.problem:
        return None, decision.role, decision.problem
    return decision.time_ms, decision.role, decision.time_reason or decision.role_reason


def row_for_node(node) -> InputRow:
    """First guess of a volume node's time and role (attributes first, then its name)."""
    time_text = node.GetAttribute(TIME_ATTRIBUTE)
    role = node.GetAttribute(ROLE_ATTRIBUTE)
    if time_text not in (None, ""):
        return InputRow(node, float(time_text), role or None,
                        node.GetAttribute(REASON_ATTRIBUTE) or "stored with the volume")
    time_ms, guessed_role, reason = guess_time_and_role(node.GetName())
    return InputRow(node, time_ms, guessed_role, reason)


def rows_for_nodes(nodes: list) -> list[InputRow]:
    """First guesses for several volume nodes, sorted by role then time when known."""
    return [row_for_node(node) for node in nodes]


def rows_for_sequence(sequence) -> list[InputRow]:
    """One row per item of a volume sequence node.

    The time comes from the item's index value when the sequence index is a time in ms or s
    (Slicer's multi-volume import indexes echo series by EchoTime), else from the item name.
    """
    unit = (sequence.GetIndexUnit() or "").strip().lower()
    scale = {"ms": 1.0, "msec": 1.0, "s": 1000.0, "sec": 1000.0}.get(unit)
    rows = []
    for index in range(sequence.GetNumberOfDataNodes()):
        node = sequence.GetNthDataNode(index)
        value = sequence.GetNthIndexValue(index)
        row = row_for_node(node)
        row.index_value = value
        row.owner = sequence
        if row.time_ms is None and scale is not None:
            try:
                row.time_ms = float(value) * scale
                row.reason = f"sequence index {sequence.GetIndexName()} = {value} {unit}"
                row.role = row.role or "echo"
            except ValueError:
                pass
        rows.append(row)
    return rows


def remember(rows: list[InputRow]) -> None:
    """Store each row's time and role on its node, so a saved scene keeps them."""
    for row in rows:
        if row.time_ms is not None:
            row.node.SetAttribute(TIME_ATTRIBUTE, f"{row.time_ms:g}")
        if row.role:
            row.node.SetAttribute(ROLE_ATTRIBUTE, row.role)
        if row.reason:
            row.node.SetAttribute(REASON_ATTRIBUTE, row.reason)


def mapping_input_from_rows(rows: list[InputRow], echo_map: str | None = None,
                            source: str = "scene") -> MappingInput:
    """Read the rows' voxels into a MappingInput, checking times, roles and grids.

    All volumes must lie on one grid (same size, spacing, position and orientation); a
    multi-echo input (every role ``echo``) gives the map ``echo_map`` (``T2`` default).
    """
    if len(rows) < 2:
        raise UserInputError("pick at least two weighted volumes (one per preparation time)")
    for row in rows:
        if row.time_ms is None or row.role is None:
            raise UserInputError(f"'{row.name}' has no preparation time or role; type them "
                                 "into the table of preparation times")
        if row.role not in ROLES:
            raise UserInputError(f"'{row.name}' has role '{row.role}'; use one of "
                                 f"{', '.join(ROLES)}")
        if row.time_ms < 0:
            raise UserInputError(f"'{row.name}' has a negative time {row.time_ms:g} ms")
    echo = [row.role == "echo" for row in rows]
    if any(echo) and not all(echo):
        raise UserInputError("mix of echo and prepared images: use roles echo for a "
                             "multi-echo series, or shared/t1rho/t2 for a prepared protocol")
    reference = volumes.geometry_from_node(rows[0].node)
    images = []
    for row in rows:
        geometry = volumes.geometry_from_node(row.node)
        problem = reference.mismatch(geometry)
        if problem:
            raise UserInputError(f"'{row.name}' is not on the grid of '{rows[0].name}' "
                                 f"({problem}); resample it first")
        data = volumes.array_from_node(row.node).astype("float32")
        metadata = {"node_id": row.node.GetID(), **row.metadata}
        files = row.node.GetAttribute(SOURCE_FILES_ATTRIBUTE)
        if files:
            metadata["files"] = files.split("\n")
        images.append(WeightedImage(data=data, time_ms=float(row.time_ms), role=row.role,
                                    source=row.name, geometry=reference,
                                    reason=row.reason or "set in the module",
                                    metadata=metadata))
    mapping_input = MappingInput(images=images, kind="multi-echo" if all(echo) else "prepared",
                                 source=source, echo_map=(echo_map or "T2") if all(echo)
                                 else None)
    for name, series in mapping_input.map_series().items():
        times = [image.time_ms for image in series]
        if len(series) < 2:
            raise UserInputError(f"{name} needs at least two images; only "
                                 f"{', '.join(image.source for image in series)} has that role")
        if len(set(times)) != len(times):
            raise UserInputError(f"{name}: two images have the same time "
                                 f"({', '.join(f'{t:g}' for t in times)} ms)")
    if not mapping_input.map_series():
        raise UserInputError("no T1rho or T2 set: give roles t1rho and/or t2 (and shared for "
                             "the zero-preparation image)")
    return mapping_input


def import_folder(scene, path: str | Path, override_file: str | Path | None = None,
                  echo_map: str | None = None) -> tuple[list, MappingInput]:
    """Import a DICOM or NIfTI+JSON folder with the core importer into volume nodes.

    Each image becomes a scalar volume named after its series, with its time, role, the
    reason and (DICOM) its source files as attributes, under a subject and study named
    from the DICOM header when there is one. Returns the nodes and the MappingInput.
    """
    root = Path(path)
    mapping_input = load_input(root, override_file=override_file, echo_map=echo_map)
    subject_name, study_name = _patient_and_study(root, mapping_input)
    nodes = []
    for image in sorted(mapping_input.images, key=lambda im: (ROLES.index(im.role),
                                                              im.time_ms)):
        name = image.metadata.get("description") or Path(image.source).name or image.source
        node = volumes.add_volume_node(scene, image.data, image.geometry, str(name))
        node.SetAttribute(TIME_ATTRIBUTE, f"{image.time_ms:g}")
        node.SetAttribute(ROLE_ATTRIBUTE, image.role)
        node.SetAttribute(REASON_ATTRIBUTE, image.reason)
        files = [str(_absolute(root, f)) for f in image.metadata.get("files", [])]
        if files and "series_uid" in image.metadata:
            node.SetAttribute(SOURCE_FILES_ATTRIBUTE, "\n".join(files))
        if mapping_input.echo_map:
            node.SetAttribute(ECHO_MAP_ATTRIBUTE, mapping_input.echo_map)
        nodes.append(node)
    hierarchy.ensure_study(scene, nodes, subject_name, study_name)
    return nodes, mapping_input


def _absolute(root: Path, name: str) -> Path:
    candidate = Path(name)
    if candidate.is_absolute():
        return candidate
    base = root if root.is_dir() else root.parent
    return (base / candidate).resolve()


def _patient_and_study(root: Path, mapping_input: MappingInput) -> tuple[str, str]:
    """Subject and study names from the first DICOM header, else from the folder name."""
    first = mapping_input.images[0].metadata
    if first.get("files") and "series_uid" in first:
        import pydicom

        header = pydicom.dcmread(_absolute(root, first["files"][0]), stop_before_pixels=True)
        subject = str(header.get("PatientName", "") or header.get("PatientID", "") or root.name)
        study = str(header.get("StudyDescription", "") or header.get("StudyDate", "") or "study")
        return subject, study
    return root.name, "imported images"
