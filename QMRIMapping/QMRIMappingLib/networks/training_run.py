"""One ``qmri train`` run: cohort -> k-fold split -> MultiTaskLib Trainer -> weights + card.

Single process (CPU or CUDA) or, under ``torchrun``, DistributedDataParallel: every rank
builds the same cohort (it is deterministic), the loaders split the slices across ranks
and only rank 0 writes files. The output folder holds MultiTaskLib's ``last.pt`` /
``best.pt`` checkpoints and CSV log, ``train_config.json`` (the config with every default
filled in), and the final network ``<name>.pt`` with its model card ``<name>.json``
(``model_card.py``); ``export_dir`` receives a copy of those two files.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import torch

from MultiTaskLib.distributed import barrier, cleanup, setup_distributed
from MultiTaskLib.loaders import make_loader
from MultiTaskLib.seeding import seed_everything
from MultiTaskLib.training import Trainer, TrainResult
from MultiTaskLib.weighting import FixedWeighting, LossWeighting, make_weighting

from ..errors import UserInputError
from .augment import AugmentOptions
from .cohort import Cohort, build_cohort, load_folder_cohort
from .dataset import MappingSliceDataset
from .factory import build_model, save_model
from .model_card import write_model_card
from .step import mapping_step
from .train_spec import TrainSpec, fold_subjects

CONFIG_COPY = "train_config.json"


def build_training_cohort(spec: TrainSpec, progress: bool = False) -> Cohort:
    """The cohort the config describes (phantom seeds or the user's folders)."""
    data = spec.data
    labels = spec.loss.kind == "supervised" and spec.loss.label_mode in ("mle", "hybrid")
    if data["source"] == "phantom":
        return build_cohort(data["subjects"], data["seed"], snr_range=data["snr_range"],
                            motion_mm_range=data["motion_mm_range"],
                            shim_artifact_fraction=data["shim_artifact_fraction"],
                            matrix=data["matrix"], n_slices=data["slices"],
                            mle_labels=labels, progress=progress)
    samples, subjects = [], []
    for index, folder in enumerate(data["folders"]):
        part = load_folder_cohort(folder, override_file=data["times_file"], mle_labels=labels,
                                  subject_id=f"{index:03d}-{Path(folder).name}")
        samples += part.samples
        subjects += part.subjects
    if spec.loss.kind == "supervised" and spec.loss.label_mode in ("gt", "hybrid"):
        raise UserInputError("supervised training with ground-truth labels needs the "
                             "phantom; user folders have no ground truth (use label_mode mle)")
    return Cohort(samples, subjects)


def split_cohort(cohort: Cohort, spec: TrainSpec) -> tuple[list, list, list[str]]:
    """(training samples, validation samples, validation subject ids) of the config's fold."""
    ids = [entry["subject_id"] for entry in cohort.subjects]
    train_idx, val_idx = fold_subjects(len(ids), spec.validation["folds"],
                                       spec.validation["fold"])
    val_ids = {ids[i] for i in val_idx}
    train = [s for s in cohort.samples if s.subject_id not in val_ids]
    val = [s for s in cohort.samples if s.subject_id in val_ids]
    return train, val, sorted(val_ids)


def build_weighting(spec: TrainSpec) -> LossWeighting:
    """The loss weighting of the config (fixed λa·La + λb·Lb, uncertainty or DWA)."""
    options = spec.weighting
    tasks = spec.tasks
    if len(tasks) == 1:
        return FixedWeighting({tasks[0]: 1.0})
    if options["kind"] == "fixed":
        return make_weighting("fixed", tasks, lambda_a=options["lambda"])
    if options["kind"] == "dwa":
        return make_weighting("dwa", tasks, temperature=options["temperature"])
    return make_weighting("uncertainty", tasks, likelihood="laplace",
                          init_sigma=options["init_sigma"], min_sigma=spec.loss.min_sigma)


def run_training(spec: TrainSpec, out_dir: str | Path, *, resume: bool = False,
                 export_dir: str | Path | None = None, progress: bool | None = None,
                 save_rank_weights: bool = False) -> dict:
    """Train the network of ``spec`` into ``out_dir``; returns the model card (all ranks).

    ``resume`` continues from ``out_dir/last.pt`` (same config required). ``progress``
    overrides the config's progress bar setting. ``save_rank_weights`` makes every rank
    write its final weights to ``rank<k>.pt``, to check that DDP kept them identical.
    """
    out_dir = Path(out_dir)
    _check_resume(spec, out_dir, resume)
    context = setup_distributed(spec.training.device)
    threads_before = torch.get_num_threads()
    try:
        if spec.threads:
            torch.set_num_threads(spec.threads)
        config = spec.training
        if progress is not None:
            config.progress = bool(progress)
        started = time.perf_counter()
        cohort = build_training_cohort(spec, progress=config.progress and context.is_main)
        train_samples, val_samples, val_ids = split_cohort(cohort, spec)
        data_seconds = time.perf_counter() - started
        augment = AugmentOptions(spec.data["max_rotation_deg"], spec.data["max_shift_fraction"])
        train_set = MappingSliceDataset(train_samples, train=True, augment=augment,
                                        crop=spec.data["crop"], repeats=spec.data["repeats"])
        train_loader = make_loader(train_set, config, shuffle=True, context=context)
        val_loader = None
        if val_samples:
            val_loader = make_loader(MappingSliceDataset(val_samples, train=False), config,
                                     shuffle=False, context=context)
        seed_everything(config.seed)  # the initial weights depend on the seed only
        model = build_model(spec.network)
        weighting = build_weighting(spec)
        if context.is_main:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / CONFIG_COPY).write_text(json.dumps(spec.to_dict(), indent=2) + "\n")
        trainer = Trainer(model, mapping_step(spec.loss), weighting, config, out_dir,
                          context=context)
        result = trainer.fit(train_loader, val_loader, resume=resume)
        if save_rank_weights:
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()},
                       out_dir / f"rank{context.rank}.pt")
        card = None
        if context.is_main:
            weights = save_model(model.cpu().eval(), out_dir / f"{spec.name}.pt")
            card = write_model_card(weights, spec, _training_summary(
                spec, cohort, len(train_samples), len(val_samples), val_ids, result,
                data_seconds, context.world_size, str(context.device),
                result.last_epoch * len(train_loader)))
            if export_dir is not None:
                export = Path(export_dir)
                export.mkdir(parents=True, exist_ok=True)
                for path in (weights, weights.with_suffix(".json")):
                    shutil.copyfile(path, export / path.name)
        barrier(context)
        if card is None:
            card = json.loads((out_dir / f"{spec.name}.json").read_text())
        return card
    finally:
        torch.set_num_threads(threads_before)
        cleanup()


def _check_resume(spec: TrainSpec, out_dir: Path, resume: bool) -> None:
    saved = out_dir / CONFIG_COPY
    if resume:
        if not (out_dir / "last.pt").is_file():
            raise UserInputError(f"--resume: {out_dir} holds no last.pt checkpoint to resume")
        if saved.is_file() and _without_epochs(json.loads(saved.read_text())) \
                != _without_epochs(spec.to_dict()):
            raise UserInputError(f"--resume: the config differs from the one {out_dir} was "
                                 f"trained with ({saved}); resume with the same config "
                                 "(only training.epochs may grow)")
    elif (out_dir / "last.pt").is_file():
        raise UserInputError(f"{out_dir} already holds a training run; add --resume to "
                             "continue it or choose another --out")


def _without_epochs(config: dict) -> dict:
    config = json.loads(json.dumps(config))
    config.get("training", {}).pop("epochs", None)
    return config


def _training_summary(spec: TrainSpec, cohort: Cohort, n_train: int, n_val: int,
                      val_ids: list[str], result: TrainResult, data_seconds: float,
                      world_size: int, device: str, steps: int) -> dict:
    train_seconds = sum(record.seconds for record in result.history)
    best = [r for r in result.history if r.epoch == result.best_epoch]
    chosen = next((r for r in best if r.split == "val"), best[-1] if best else None)
    metrics = {}
    if chosen is not None:
        metrics = {"split": chosen.split, "epoch": chosen.epoch,
                   "losses": chosen.losses, "total": chosen.total,
                   "weighting": chosen.weighting,
                   **{k: v for k, v in chosen.metrics.items() if math.isfinite(v)}}
    return {
        "data": {"source": spec.data["source"], "subjects": len(cohort.subjects),
                 "training_slices": n_train, "validation_slices": n_val,
                 "validation_subjects": val_ids,
                 "subject_records": cohort.subjects},
        "result": {"best_epoch": result.best_epoch, "best_value": result.best_value,
                   "monitor": spec.training.monitor, "last_epoch": result.last_epoch,
                   "stopped_early": result.stopped_early,
                   "optimiser_steps": steps},
        "metrics": metrics,
        "training_time_s": round(train_seconds, 1),
        "data_time_s": round(data_seconds, 1),
        "processes": world_size,
        "device": device,
        "threads": torch.get_num_threads(),
    }
