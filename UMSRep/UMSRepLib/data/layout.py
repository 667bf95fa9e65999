"""The generic UMS-Rep dataset layout, for any modality, and its validation.

A dataset is a folder::

    <dataset>/
      images/              one image per case: .nii/.nii.gz, .nrrd, .mha, .png, .dcm, or
                           a sub-folder holding one DICOM series; 2-D or 3-D
      masks/<task>/        (optional) one binary mask per case for segmentation task
                           <task>, named like the image (any supported suffix), on the
                           image's voxel grid; non-zero = foreground
      labels.csv           (optional) one row per case: column "image" (file or folder
                           name in images/), optional column "split" (train, val or
                           test), one column per classification task holding the class
                           name (blank = not labelled for that task); columns starting
                           with "_" are notes and ignored
      dataset.yaml         (optional) name, modality and, per task, its kind and the
                           class order: tasks: {quality: {kind: classification,
                           classes: [clean, motion, noise]}, liver: {kind: segmentation}}

Every dataset has the label-free ``denoise`` task (all images). Each ``masks/<task>``
folder is a segmentation task and each labels.csv task column a classification task.
3-D images give one sample per axial slice; a case's class label applies to all its
slices. Without a split column, cases are split 80/10/10 by a hash of their name.

:func:`index_dataset` checks the layout and reports the first problem as one line
(:class:`DatasetError`): missing masks, masks or rows without an image, images without
a row, unknown or empty classes, bad splits.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError, UserInputError
from ..tasks import DENOISE, TaskSpec
from .readers import case_name, is_image_entry

SPLITS = ("train", "val", "test")
RESERVED_COLUMNS = ("image", "split")
LABELS_FILE = "labels.csv"
DESCRIPTION_FILE = "dataset.yaml"


@dataclass
class Case:
    """One image of the dataset and everything known about it."""

    name: str
    image: Path
    split: str
    masks: dict[str, Path] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)  # task -> class index


@dataclass
class DatasetIndex:
    """A validated dataset: its cases and tasks (``denoise`` first)."""

    root: Path
    name: str
    modality: str
    tasks: list[TaskSpec]
    cases: list[Case]

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise DatasetError(f"dataset {self.root} has no task {name!r}; it has "
                           f"{', '.join(t.name for t in self.tasks)}")

    def cases_in(self, split: str) -> list[Case]:
        return [case for case in self.cases if case.split == split]

    def summary(self) -> dict:
        """Counts per split and, per classification task, per class (for ``check-data``)."""
        info: dict = {"root": str(self.root), "name": self.name, "modality": self.modality,
                      "tasks": [t.to_dict() for t in self.tasks],
                      "cases": {s: len(self.cases_in(s)) for s in SPLITS}}
        for task in self.tasks:
            if task.kind == "classification":
                info[task.name] = {cls: sum(1 for c in self.cases
                                            if c.labels.get(task.name) == i)
                                   for i, cls in enumerate(task.classes)}
        return info


def index_dataset(root: str | Path) -> DatasetIndex:
    """Validate the folder ``root`` and index its cases (see the module docstring)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    description = _read_description(root)
    images = _image_entries(root)
    seg_tasks = _segmentation_tasks(root, description)
    rows, columns = _read_labels(root, images)
    cls_tasks = _classification_tasks(root, columns, rows, description)
    _check_declared(root, description, seg_tasks, cls_tasks)

    cases = []
    for name, path in images.items():
        row = rows.get(name, {})
        split = _split_of(root, name, row)
        case = Case(name=name, image=path, split=split)
        for task in cls_tasks:
            value = (row.get(task.name) or "").strip()
            if value:
                if value not in task.classes:
                    raise DatasetError(f"{root / LABELS_FILE}: image {path.name!r} has class "
                                       f"{value!r} for task {task.name!r}, which is not one of "
                                       f"{', '.join(task.classes)}")
                case.labels[task.name] = task.classes.index(value)
        cases.append(case)
    for task in seg_tasks:
        masks = _mask_entries(root, task.name, images)
        for case in cases:
            case.masks[task.name] = masks[case.name]
    _check_classes(root, cls_tasks, cases)
    if not any(case.split == "train" for case in cases):
        raise DatasetError(f"dataset {root} has no training case (split column or too few "
                           "images)")
    return DatasetIndex(root=root, name=str(description.get("name") or root.name),
                        modality=str(description.get("modality") or "unspecified"),
                        tasks=[DENOISE, *seg_tasks, *cls_tasks], cases=cases)


def _read_description(root: Path) -> dict:
    path = root / DESCRIPTION_FILE
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except Exception as error:
        first = (str(error).strip().splitlines() or ["syntax error"])[0]
        raise DatasetError(f"cannot parse {path}: {first}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path} must hold a mapping (name, modality, tasks)")
    tasks = data.get("tasks") or {}
    if not isinstance(tasks, dict):
        raise DatasetError(f"{path}: 'tasks' must map task names to {{kind, classes}}")
    return data


def _image_entries(root: Path) -> dict[str, Path]:
    folder = root / "images"
    if not folder.is_dir():
        raise DatasetError(f"dataset {root} has no images/ folder")
    entries: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not is_image_entry(path):
            continue
        name = case_name(path)
        if name in entries:
            raise DatasetError(f"images/ holds two images of case {name!r}: "
                               f"{entries[name].name} and {path.name}")
        entries[name] = path
    if not entries:
        raise DatasetError(f"{folder} holds no image (.nii, .nii.gz, .nrrd, .mha, .png, .dcm "
                           "or DICOM folder)")
    return entries


def _segmentation_tasks(root: Path, description: dict) -> list[TaskSpec]:
    folder = root / "masks"
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise DatasetError(f"{folder} must be a folder of one sub-folder per segmentation task")
    tasks = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        declared = (description.get("tasks") or {}).get(path.name) or {}
        if declared.get("kind", "segmentation") != "segmentation":
            raise DatasetError(f"masks/{path.name}/ holds masks but dataset.yaml declares "
                               f"task {path.name!r} as {declared.get('kind')}")
        tasks.append(_task(path.name, "segmentation", (), root))
    return tasks


def _mask_entries(root: Path, task: str, images: dict[str, Path]) -> dict[str, Path]:
    folder = root / "masks" / task
    masks: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not is_image_entry(path):
            continue
        name = case_name(path)
        if name not in images:
            raise DatasetError(f"mask masks/{task}/{path.name} has no image of case {name!r} "
                               "in images/")
        masks[name] = path
    missing = [name for name in images if name not in masks]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DatasetError(f"missing mask for case {missing[0]!r}{more} in masks/{task}/; every "
                           "image needs a mask for a segmentation task")
    return masks


def _read_labels(root: Path, images: dict[str, Path]) -> tuple[dict[str, dict], list[str]]:
    path = root / LABELS_FILE
    if not path.is_file():
        return {}, []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        if "image" not in columns:
            raise DatasetError(f"{path} needs an 'image' column naming the file in images/")
        by_file = {p.name: name for name, p in images.items()}
        rows: dict[str, dict] = {}
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            image = row.get("image", "")
            name = by_file.get(image) or (image if image in images else None)
            if name is None:
                raise DatasetError(f"{path} line {line} names image {image!r}, which is not in "
                                   "images/ (label/image mismatch)")
            if name in rows:
                raise DatasetError(f"{path} line {line}: image {image!r} has a second row")
            rows[name] = row
    unlisted = [p.name for name, p in images.items() if name not in rows]
    if unlisted:
        raise DatasetError(f"image {unlisted[0]!r} has no row in {path} (label/image mismatch; "
                           f"{len(unlisted)} image(s) unlisted)")
    return rows, columns


def _classification_tasks(root: Path, columns: list[str], rows: dict[str, dict],
                          description: dict) -> list[TaskSpec]:
    declared = description.get("tasks") or {}
    tasks = []
    for column in columns:
        if column in RESERVED_COLUMNS or column.startswith("_") or not column:
            continue
        info = declared.get(column) or {}
        kind = info.get("kind", "classification")
        if kind != "classification":
            raise DatasetError(f"labels.csv column {column!r} is a class column but dataset.yaml "
                               f"declares task {column!r} as {kind}")
        classes = info.get("classes")
        if classes is None:
            classes = sorted({row.get(column, "") for row in rows.values()} - {""})
        if len(classes) < 2:
            raise DatasetError(f"classification task {column!r} has {len(classes)} class(es) "
                               f"{list(classes)}; at least two are needed")
        tasks.append(_task(column, "classification", tuple(str(c) for c in classes), root))
    return tasks


def _check_declared(root: Path, description: dict, seg: list[TaskSpec],
                    cls: list[TaskSpec]) -> None:
    found = {t.name for t in seg + cls} | {DENOISE.name}
    for name in (description.get("tasks") or {}):
        if name not in found:
            raise DatasetError(f"dataset.yaml declares task {name!r} but there is neither "
                               f"masks/{name}/ nor a labels.csv column {name!r}")


def _task(name: str, kind: str, classes: tuple[str, ...], root: Path) -> TaskSpec:
    try:
        return TaskSpec(name, kind, classes)
    except UserInputError as error:
        raise DatasetError(f"dataset {root}: {error}") from None


def _split_of(root: Path, name: str, row: dict) -> str:
    value = (row.get("split") or "").strip().lower()
    if value:
        if value not in SPLITS:
            raise DatasetError(f"{root / LABELS_FILE}: case {name!r} has split {value!r}; use "
                               "train, val or test")
        return value
    bucket = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def _check_classes(root: Path, tasks: list[TaskSpec], cases: list[Case]) -> None:
    for task in tasks:
        for index, cls in enumerate(task.classes):
            if not any(c.labels.get(task.name) == index for c in cases):
                raise DatasetError(f"class {cls!r} of task {task.name!r} has no example in "
                                   f"{root} (empty class)")
            if not any(c.labels.get(task.name) == index and c.split == "train" for c in cases):
                raise DatasetError(f"class {cls!r} of task {task.name!r} has no training example "
                                   f"in {root} (empty class in the train split)")
