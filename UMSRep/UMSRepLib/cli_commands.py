"""Sub-commands of ``umsrep``: each ``add_*`` registers one with its handler."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .errors import UserInputError


def _progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _common(parser: argparse.ArgumentParser, training: bool = True) -> None:
    parser.add_argument("--config", type=Path, help="UMSRep config file (YAML); default: "
                        "built-in defaults")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: config, 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    if training:
        parser.add_argument("--epochs", type=int, help="maximum epochs (overrides the config)")
        parser.add_argument("--batch-size", type=int, help="batch size (overrides the config)")
        parser.add_argument("--lr", type=float, help="learning rate (overrides the config)")
        parser.add_argument("--seed", type=int, help="training seed (overrides the config)")
        parser.add_argument("--name", help="model name stored in the card")
        parser.add_argument("--overwrite", action="store_true",
                            help="replace an existing model folder")


def _setup(args: argparse.Namespace):
    from .config import load_config
    from .pipeline import set_threads

    config = load_config(args.config)
    set_threads(args.threads if args.threads is not None else config.threads)
    return config


def _train(config, section: str, args: argparse.Namespace):
    return config.train_config(section, epochs=args.epochs, batch_size=args.batch_size,
                               lr=args.lr, seed=args.seed, progress=_progress(args))


def _split_list(text: str, what: str) -> list[str]:
    items = [item.strip() for item in (text or "").split(",") if item.strip()]
    if not items:
        raise UserInputError(f"{what} must be a comma-separated list, got {text!r}")
    return items


def _key_values(items: list[str] | None, what: str, integer: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items or []:
        for part in item.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise UserInputError(f"{what} must look like name=value, got {part!r}")
            value = value.strip()
            try:
                values[key.strip()] = int(value) if integer else float(value)
            except ValueError:
                if integer:
                    raise UserInputError(f"{what} {part!r}: {value!r} is not an integer") from None
                values[key.strip()] = value
    return values


def _labelled(items: list[str] | None) -> list[tuple[str, Path]]:
    out = []
    for item in items or []:
        label, sep, path = item.partition("=")
        if not sep:
            label, path = Path(item).name, item
        from .model_files import resolve_bundle

        out.append((label, resolve_bundle(path)))
    return out


# --- data --------------------------------------------------------------------------------


def add_make_data(commands) -> None:
    p = commands.add_parser("make-data", help="generate the bundled liver-MR task family "
                            "(digital phantom) as a dataset folder")
    p.add_argument("out", type=Path, help="new dataset folder")
    p.add_argument("--config", type=Path, help="take the 'data' section of this config file")
    p.add_argument("--train", type=int, help="training subjects")
    p.add_argument("--val", type=int, help="validation subjects")
    p.add_argument("--test", type=int, help="test subjects")
    p.add_argument("--seed", type=int, help="data seed")
    p.add_argument("--matrix", type=int, help="phantom matrix (default 128)")
    p.add_argument("--slices", type=int, help="slices per subject (default 3)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_make_data)


def _make_data(args) -> int:
    from .config import load_config
    from .data.layout import index_dataset
    from .data.liver_family import FamilyConfig, make_liver_family

    values = dict(load_config(args.config).data) if args.config else {}
    if "path" in values:
        raise UserInputError(f"{args.config} names an existing dataset (data.path), nothing to "
                             "generate")
    subjects = dict(values.get("subjects") or FamilyConfig().subjects)
    for split in ("train", "val", "test"):
        if getattr(args, split) is not None:
            subjects[split] = getattr(args, split)
    values["subjects"] = subjects
    for key in ("seed", "matrix", "slices"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    out = make_liver_family(args.out, FamilyConfig.from_dict(values), progress=_progress(args))
    print(json.dumps(index_dataset(out).summary(), indent=2))
    return 0


def add_check_data(commands) -> None:
    p = commands.add_parser("check-data", help="validate a dataset folder and summarise it")
    p.add_argument("data", type=Path)
    p.set_defaults(handler=_check_data)


def _check_data(args) -> int:
    from .data.layout import index_dataset

    print(json.dumps(index_dataset(args.data).summary(), indent=2))
    return 0


# --- training ----------------------------------------------------------------------------


def add_pretrain(commands) -> None:
    p = commands.add_parser("pretrain", help="train the shared representation (denoising "
                            "autoencoder) without labels")
    p.add_argument("--data", type=Path, required=True, help="dataset folder")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    _common(p)
    p.set_defaults(handler=_pretrain)


def _pretrain(args) -> int:
    from .pipeline import run_pretrain

    config = _setup(args)
    out = run_pretrain(args.data, args.out, config.architecture, config.noise,
                       _train(config, "pretrain", args),
                       name=args.name or f"{config.name}-pretrained", augment=config.augment,
                       progress=_progress(args), overwrite=args.overwrite)
    print(f"pretrained model written to {out}")
    return 0


def add_finetune(commands) -> None:
    p = commands.add_parser("finetune", help="fine-tune task heads on a model's encoder")
    p.add_argument("--model", required=True, help="model folder (or shipped model name)")
    p.add_argument("--data", type=Path, required=True, help="dataset folder")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--strategy", choices=("independent", "alternating", "joint"),
                   help="fine-tuning strategy (default: config, independent)")
    p.add_argument("--tasks", help="comma-separated tasks (default: config)")
    p.add_argument("--weighting", choices=("fixed", "uncertainty", "dwa"),
                   help="joint strategy: loss weighting")
    p.add_argument("--weighting-option", action="append", metavar="KEY=VALUE",
                   help="joint strategy: weighting option, e.g. likelihood=gaussian")
    p.add_argument("--ratio", action="append", metavar="TASK=N",
                   help="alternating strategy: batches per cycle, e.g. liver=2,quality=1")
    p.add_argument("--feature-views", type=int, metavar="N",
                   help="independent strategy: augmented encodings stored per slice "
                        "(0: run the frozen encoder at every step; default: config, 4)")
    p.add_argument("--task-epochs", action="append", metavar="TASK=N",
                   help="independent strategy: a head's own epoch budget, e.g. quality=60")
    _common(p)
    p.set_defaults(handler=_finetune)


def _finetune(args) -> int:
    from .model_files import resolve_bundle
    from .pipeline import run_finetune
    from .training.strategies import FinetuneOptions

    config = _setup(args)
    base = config.finetune
    tasks = _split_list(args.tasks, "--tasks") if args.tasks else list(base.tasks)
    options = FinetuneOptions(
        strategy=args.strategy or base.strategy,
        tasks=tasks,
        weighting=args.weighting or base.weighting,
        weighting_options=(_key_values(args.weighting_option, "--weighting-option")
                           if args.weighting_option
                           else {} if args.weighting and args.weighting != base.weighting
                           else dict(base.weighting_options)),
        ratio=(_key_values(args.ratio, "--ratio", integer=True) if args.ratio
               else dict(base.ratio) if not args.tasks else {}),
        feature_views=(args.feature_views if args.feature_views is not None
                       else base.feature_views),
        task_epochs=(_key_values(args.task_epochs, "--task-epochs", integer=True)
                     if args.task_epochs
                     else {t: e for t, e in base.task_epochs.items() if t in tasks}))
    out = run_finetune(resolve_bundle(args.model), args.data, args.out, options,
                       _train(config, "finetune", args),
                       name=args.name or f"{config.name}-{options.strategy}",
                       augment=config.augment, progress=_progress(args),
                       overwrite=args.overwrite)
    print(f"fine-tuned model ({options.strategy}: {', '.join(options.tasks)}) written to {out}")
    return 0


def add_baseline(commands) -> None:
    p = commands.add_parser("baseline", help="train a separate end-to-end model for one task")
    p.add_argument("--data", type=Path, required=True, help="dataset folder")
    p.add_argument("--task", required=True, help="task name")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    _common(p)
    p.set_defaults(handler=_baseline)


def _baseline(args) -> int:
    from .pipeline import run_separate

    config = _setup(args)
    out = run_separate(args.data, args.task, args.out, config.architecture, config.noise,
                       _train(config, "pretrain", args), name=args.name or f"separate-{args.task}",
                       augment=config.augment, progress=_progress(args),
                       overwrite=args.overwrite)
    print(f"separate {args.task} model written to {out}")
    return 0


# --- use and evaluation --------------------------------------------------------------------


def add_predict(commands) -> None:
    p = commands.add_parser("predict", help="run the heads on an image: liver mask, ROI, "
                            "class probabilities, Grad-CAM and the mapping recommendation")
    p.add_argument("image", type=Path, help="NIfTI/NRRD/MHA/PNG/DICOM file or DICOM folder")
    p.add_argument("--model", default="liver_mr", help="model folder or shipped model name "
                   "(default: liver_mr)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--heatmap-task", help="classification task explained by Grad-CAM "
                   "(default: quality)")
    p.add_argument("--denoise", action="store_true", help="also write the denoised image")
    p.add_argument("--reference", type=Path, help="a reference label map on the image's grid: "
                   "report Dice and IoU of the liver mask against it")
    p.add_argument("--reference-label", type=int, default=None,
                   help="label value of the liver in --reference (default: any non-zero)")
    p.add_argument("--threads", type=int)
    p.set_defaults(handler=_predict)


def _predict(args) -> int:
    from .data.readers import read_image, write_like
    from .inference import analyse_volume
    from .model_files import load_bundle, resolve_bundle
    from .pipeline import set_threads

    set_threads(args.threads or 1)
    bundle = load_bundle(resolve_bundle(args.model))
    image = read_image(args.image)
    result = analyse_volume(bundle, image.array,
                            image.spacing if image.has_geometry else None,
                            image.direction if image.has_geometry else None,
                            heatmap_task=args.heatmap_task, denoise=args.denoise)
    args.out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, array in (("liver_probability", result.liver_probability),
                        ("liver_mask", result.liver_mask), ("roi", result.roi_mask),
                        ("heatmap", result.heatmap), ("denoised", result.denoised)):
        if array is not None:
            written[name] = str(write_like(array, image, args.out / f"{name}.nii.gz"))
    summary = {"image": str(args.image), "model": str(bundle.path), **result.summary(),
               "files": written}
    if args.reference is not None:
        summary["reference"] = _reference_scores(args, image, result)
    (args.out / "result.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for task, probs in result.class_probabilities.items():
        text = ", ".join(f"{c} {p:.2f}" for c, p in probs.items())
        print(f"{task}: {text}")
    print(result.recommendation.reason)
    if "reference" in summary:
        scores = summary["reference"]
        print(f"liver vs reference: Dice {scores['dice']:.3f}, IoU {scores['iou']:.3f} "
              f"({scores['reference_voxels']} reference voxels, "
              f"{scores['predicted_voxels']} predicted)")
    return 0


def _reference_scores(args, image, result) -> dict[str, Any]:
    import numpy as np

    from MultiTaskLib.metrics import dice, iou

    from .data.readers import read_image

    reference = read_image(args.reference)
    if reference.array.shape != image.array.shape:
        raise UserInputError(f"reference {args.reference} has shape "
                             f"{reference.array.shape[::-1]}, the image "
                             f"{image.array.shape[::-1]}")
    if result.liver_mask is None:
        raise UserInputError("the model has no liver segmentation head to compare")
    truth = (reference.array == args.reference_label if args.reference_label is not None
             else reference.array != 0)
    predicted = result.liver_mask
    per_slice = [dice(p, t) for p, t in zip(predicted, truth, strict=True) if t.any()]
    return {"dice": dice(predicted, truth), "iou": iou(predicted, truth),
            "mean_slice_dice": float(np.mean(per_slice)) if per_slice else float("nan"),
            "reference_voxels": int(truth.sum()), "predicted_voxels": int(predicted.sum()),
            "reference": str(args.reference), "label": args.reference_label}


def add_evaluate(commands) -> None:
    p = commands.add_parser("evaluate", help="test metrics, parameters, training time and "
                            "McNemar's test of models on a dataset's test split")
    p.add_argument("--data", type=Path, required=True, help="dataset folder (test split used)")
    p.add_argument("--model", action="append", required=True, metavar="[LABEL=]PATH",
                   help="model to evaluate (repeat to compare)")
    p.add_argument("--separate", action="append", metavar="[LABEL=]PATH",
                   help="separate single-task model for the efficiency comparison (repeat)")
    p.add_argument("--tasks", help="comma-separated tasks to score (default: all heads)")
    p.add_argument("--report", type=Path, help="write the markdown report here")
    p.add_argument("--json", type=Path, help="write all numbers as JSON here")
    p.add_argument("--write-card", action="store_true",
                   help="store the metrics in each model's card")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_evaluate)


def _evaluate(args) -> int:
    from .pipeline import run_evaluate, set_threads

    set_threads(args.threads or 1)
    result = run_evaluate(args.data, _labelled(args.model), _labelled(args.separate),
                          tasks=_split_list(args.tasks, "--tasks") if args.tasks else None,
                          progress=_progress(args), write_cards=args.write_card)
    if args.report:
        args.report.write_text(result["markdown"], encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({k: v for k, v in result.items() if k != "markdown"},
                                        indent=2, default=str) + "\n", encoding="utf-8")
    print(result["markdown"])
    return 0


def add_reproduce(commands) -> None:
    p = commands.add_parser("reproduce", help="build a model from its config file: data, "
                            "pretraining, fine-tuning and test metrics in the card")
    p.add_argument("config", type=Path, help="config file, e.g. "
                   "UMSRep/Resources/Models/liver_mr.yaml")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--work", type=Path, help="folder for data, runs and the report "
                   "(default: <out>_work)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_reproduce)


def _reproduce(args) -> int:
    from .config import load_config
    from .pipeline import reproduce

    config = load_config(args.config)
    work = args.work or args.out.with_name(args.out.name + "_work")
    result = reproduce(config, args.out, work, progress=_progress(args),
                       overwrite=args.overwrite)
    print(result["markdown"])
    print(f"model written to {args.out}; data, runs and report in {work}")
    return 0


def add_benchmark(commands) -> None:
    p = commands.add_parser("benchmark", help="the paper's comparisons: separate models vs "
                            "shared representation, and fine-tuning strategies")
    p.add_argument("config", type=Path, help="config file")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_benchmark)


def _benchmark(args) -> int:
    from .benchmark import benchmark
    from .config import load_config

    result = benchmark(load_config(args.config), args.out, progress=_progress(args))
    print(result["markdown"])
    return 0


COMMANDS = (add_make_data, add_check_data, add_pretrain, add_finetune, add_baseline,
            add_predict, add_evaluate, add_reproduce, add_benchmark)
