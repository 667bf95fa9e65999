"""The steps behind the ``umsrep`` commands, callable from Python as well.

Each step reads a dataset in the generic layout, trains with the shared Trainer and
writes a model bundle whose card records the data, the configuration and the time of
every training stage (a fine-tuned bundle inherits its pretraining stage, since the
shared representation is part of what its heads cost):

* :func:`run_pretrain`  - denoising autoencoder -> bundle (encoder + ``denoise`` head)
* :func:`run_finetune`  - heads on a bundle's encoder with a strategy -> new bundle
* :func:`run_separate`  - one end-to-end model for one task -> bundle (the baseline)
* :func:`run_evaluate`  - metrics, efficiency and McNemar over bundles -> report
* :func:`reproduce`     - everything for a shipped bundle from its config file
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import torch

from MultiTaskLib.config import TrainConfig

from .config import UMSRepConfig
from .data.augment import Augmentation
from .data.layout import DESCRIPTION_FILE, DatasetIndex, index_dataset
from .data.liver_family import FamilyConfig, make_liver_family
from .data.slices import SliceSet, load_slices
from .errors import UserInputError
from .evaluation.compare import EvaluatedModel, dice_pairs, efficiency, mcnemar_pairs
from .evaluation.metrics import evaluate_model
from .evaluation.report import markdown_report
from .model_files import load_bundle, read_card, save_bundle, write_card
from .networks import ArchitectureSpec
from .noise import NoiseModel
from .tasks import DENOISE
from .training.baseline import train_separate
from .training.pretrain import pretrain
from .training.runner import StageRecord
from .training.strategies import FinetuneOptions, finetune

_SLICES: dict[tuple, SliceSet] = {}
#: Per-case metric lists kept in reports but not in model cards.
PER_CASE_KEYS = ("rows", "correct", "slice_rows", "slice_dice")


def set_threads(threads: int | None) -> None:
    """Limit torch's CPU threads (None: leave torch's default)."""
    if threads:
        torch.set_num_threads(int(threads))


def dataset_slices(data_dir: str | Path, spec: ArchitectureSpec, progress: bool = False
                   ) -> tuple[DatasetIndex, SliceSet]:
    """Index and load a dataset at the model's size (cached per process)."""
    index = index_dataset(data_dir)
    key = (str(Path(data_dir).resolve()), spec.image_size, spec.field_of_view_mm)
    if key not in _SLICES:
        _SLICES[key] = load_slices(index, spec.image_size, spec.field_of_view_mm,
                                   progress=progress)
    return index, _SLICES[key]


def data_summary(index: DatasetIndex) -> dict[str, Any]:
    summary = index.summary()
    description = index.root / DESCRIPTION_FILE
    if description.is_file():
        import yaml

        generated = (yaml.safe_load(description.read_text(encoding="utf-8")) or {}).get("config")
        if generated:
            summary["generated_with"] = generated
    return summary


def _training_info(index: DatasetIndex, stages: list[StageRecord | dict], config: dict
                   ) -> dict[str, Any]:
    records = [s.to_dict() if isinstance(s, StageRecord) else dict(s) for s in stages]
    return {"data": data_summary(index), "config": config, "stages": records,
            "total_seconds": round(sum(r["seconds"] for r in records), 3),
            "threads": torch.get_num_threads(), "device": "cpu"}


def run_pretrain(data_dir: str | Path, out: str | Path, spec: ArchitectureSpec,
                 noise: NoiseModel, train: TrainConfig, *, name: str,
                 augment: Augmentation | bool = False, progress: bool = False,
                 overwrite: bool = False,
                 runs_dir: str | Path | None = None) -> Path:
    """Pretrain the shared representation on every training image of ``data_dir``."""
    index, slices = dataset_slices(data_dir, spec, progress)
    runs = Path(runs_dir) if runs_dir else Path(out).with_name(Path(out).name + "_runs")
    model, record = pretrain(slices.select("train"), slices.select("val"), spec, noise, train,
                             runs / "pretrain", augment=augment)
    info = _training_info(index, [record], {"pretrain": train.to_dict(),
                                            "augment": Augmentation.of(augment).to_dict()})
    return save_bundle(model, out, spec, noise, name=name, encoder_state="pretrained",
                       training=info, overwrite=overwrite)


def run_finetune(base: str | Path, data_dir: str | Path, out: str | Path,
                 options: FinetuneOptions, train: TrainConfig, *, name: str,
                 augment: Augmentation | bool = False, progress: bool = False,
                 overwrite: bool = False, runs_dir: str | Path | None = None) -> Path:
    """Fine-tune heads of ``options.tasks`` on the encoder of bundle ``base``."""
    bundle = load_bundle(base)
    index, slices = dataset_slices(data_dir, bundle.spec, progress)
    for task in options.tasks:
        slices.task(task)
    runs = Path(runs_dir) if runs_dir else Path(out).with_name(Path(out).name + "_runs")
    model, records = finetune(bundle.model, slices.select("train"), slices.select("val"),
                              options, bundle.spec, bundle.noise, train, runs,
                              augment=augment)
    base_stages = (bundle.card.get("training") or {}).get("stages") or []
    config = dict((bundle.card.get("training") or {}).get("config") or {})
    config.update({"finetune": train.to_dict(), "strategy": options.to_dict(),
                   "augment": Augmentation.of(augment).to_dict()})
    state = ("pretrained (frozen)" if options.strategy == "independent"
             else f"fine-tuned ({records[0].name})")
    info = _training_info(index, [*base_stages, *records], config)
    return save_bundle(model, out, bundle.spec, bundle.noise, name=name, encoder_state=state,
                       training=info, overwrite=overwrite)


def run_separate(data_dir: str | Path, task_name: str, out: str | Path,
                 spec: ArchitectureSpec, noise: NoiseModel, train: TrainConfig, *,
                 name: str, augment: Augmentation | bool = False, progress: bool = False,
                 overwrite: bool = False, runs_dir: str | Path | None = None) -> Path:
    """Train one end-to-end model for ``task_name`` (the separate-model baseline)."""
    index, slices = dataset_slices(data_dir, spec, progress)
    task = slices.task(task_name)
    runs = Path(runs_dir) if runs_dir else Path(out).with_name(Path(out).name + "_runs")
    model, record = train_separate(task, slices.select("train"), slices.select("val"), spec,
                                   noise, train, runs / f"separate_{task.name}",
                                   augment=augment)
    info = _training_info(index, [record], {"separate": train.to_dict(),
                                            "augment": Augmentation.of(augment).to_dict()})
    return save_bundle(model, out, spec, noise, name=name, encoder_state="end-to-end",
                       training=info, overwrite=overwrite)


def run_evaluate(data_dir: str | Path, models: list[tuple[str, Path]],
                 separate: list[tuple[str, Path]] | None = None, *, seed: int = 0,
                 tasks: list[str] | None = None, progress: bool = False,
                 title: str = "UMSRep evaluation", write_cards: bool = False
                 ) -> dict[str, Any]:
    """Evaluate bundles on the test split; returns ``{"markdown", "models", ...}``.

    ``models`` are compared with each other (McNemar); ``separate`` are single-task
    end-to-end models the efficiency of each multi-task model is measured against.
    ``tasks`` limits the metrics to those tasks.
    """
    if not models:
        raise UserInputError("give at least one model to evaluate")
    evaluated: list[EvaluatedModel] = []
    separate_models: list[EvaluatedModel] = []
    entries = [(label, path, False) for label, path in models]
    entries += [(label, path, True) for label, path in separate or []]
    for label, path, is_separate in entries:
        bundle = load_bundle(path)
        _, slices = dataset_slices(data_dir, bundle.spec, progress)
        test = slices.select("test")
        if not len(test):
            raise UserInputError(f"dataset {data_dir} has no test split to evaluate on")
        result = EvaluatedModel(label, Path(path), bundle.card,
                                evaluate_model(bundle.model, test, bundle.noise, tasks=tasks,
                                               seed=seed))
        (separate_models if is_separate else evaluated).append(result)
        if write_cards:
            card = read_card(path)
            card["metrics"] = {task: {k: v for k, v in m.items() if k not in PER_CASE_KEYS}
                               for task, m in result.metrics.items()}
            card["metrics"]["test_data"] = str(data_dir)
            write_card(path, card)
    rows = []
    if separate_models:
        rows = [efficiency(model, separate_models) for model in evaluated
                if len(model.tasks) > 1 or model.tasks[0] != DENOISE.name]
    everything = evaluated + separate_models
    tasks = sorted({t for m in everything for t, v in m.metrics.items()
                    if v.get("kind") == "classification"})
    pairs = [pair for task in tasks for pair in mcnemar_pairs(everything, task)]
    segmented = sorted({t for m in everything for t, v in m.metrics.items()
                        if v.get("kind") == "segmentation"})
    seg_pairs = [pair for task in segmented for pair in dice_pairs(everything, task)]
    return {"markdown": markdown_report(everything, rows, pairs, title, seg_pairs),
            "models": [{"label": m.label, "path": str(m.path), "tasks": m.tasks,
                        "parameters": m.parameters, "training_seconds": m.training_seconds,
                        "metrics": m.metrics} for m in everything],
            "efficiency": rows, "mcnemar": pairs, "wilcoxon_dice": seg_pairs}


def prepare_data(config: UMSRepConfig, work: Path, progress: bool = False) -> Path:
    """The config's dataset: an existing folder, or the liver family generated in ``work``."""
    if "path" in config.data:
        return Path(config.data["path"])
    family = FamilyConfig.from_dict(config.data)
    data_dir = work / "data"
    description = data_dir / DESCRIPTION_FILE
    if description.is_file():
        import yaml

        existing = (yaml.safe_load(description.read_text(encoding="utf-8")) or {}).get("config")
        if existing == family.to_dict():
            return data_dir
        raise UserInputError(f"{data_dir} holds data generated with another config; remove it "
                             "or choose another --work folder")
    return make_liver_family(data_dir, family, progress=progress)


def reproduce(config: UMSRepConfig, out: str | Path, work: str | Path, *,
              progress: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Data -> pretraining -> fine-tuning -> test metrics in the card: a shipped bundle."""
    set_threads(config.threads)
    work = Path(work)
    data_dir = prepare_data(config, work, progress)
    pretrained = run_pretrain(data_dir, work / "pretrained", config.architecture, config.noise,
                              config.train_config("pretrain", progress=progress),
                              name=f"{config.name}-pretrained", augment=config.augment,
                              progress=progress, overwrite=True, runs_dir=work / "runs")
    final = run_finetune(pretrained, data_dir, out, copy.deepcopy(config.finetune),
                         config.train_config("finetune", progress=progress), name=config.name,
                         augment=config.augment, progress=progress, overwrite=overwrite,
                         runs_dir=work / "runs")
    card = read_card(final)
    card["training"]["config"]["source_config"] = config.to_dict()
    # the data are regenerated from the config; a machine's scratch path means nothing
    card["training"]["data"]["root"] = "generated from source_config.data (umsrep make-data)"
    write_card(final, card)
    result = run_evaluate(data_dir, [(config.name, final)], progress=progress,
                          title=f"{config.name}: test metrics", write_cards=True)
    (work / "report.md").write_text(result["markdown"], encoding="utf-8")
    (work / "report.json").write_text(json.dumps(result, indent=2, default=str) + "\n",
                                      encoding="utf-8")
    return result
