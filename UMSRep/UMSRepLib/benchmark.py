"""``umsrep benchmark``: the paper's comparisons on a dataset, end to end.

1. Pretrain the shared representation (denoising autoencoder).
2. Train one separate end-to-end model per task (the baseline). The separate denoiser
   *is* the pretraining run - the same network trained the same way on the same data -
   so it is reused rather than trained twice (its time is counted on both sides).
3. Fine-tune all heads on the frozen encoder (independent strategy) and, when the
   config's ``finetune`` section names another strategy, fine-tune its tasks that way
   too (the shipped model's recipe): the UMS-Rep models compared with the separate
   models on parameters, training time and accuracy.
4. For a heterogeneous task group (segmentation + classification) and a homogeneous
   one (several classifications), fine-tune with the alternating strategy and the
   joint strategy under each loss weighting, and compare them with the independent
   heads on the same test slices (metrics and McNemar's test).

Everything lands in ``out/``: the dataset, one bundle per model, ``report.md`` and
``report.json``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .config import UMSRepConfig
from .pipeline import (
    dataset_slices,
    prepare_data,
    run_evaluate,
    run_finetune,
    run_pretrain,
    run_separate,
    set_threads,
)
from .tasks import DENOISE
from .training.strategies import FinetuneOptions


def benchmark(config: UMSRepConfig, out: str | Path, *, progress: bool = False
              ) -> dict[str, Any]:
    """Run every training and evaluation of the comparison; returns the report data."""
    set_threads(config.threads)
    out = Path(out)
    models = out / "models"
    runs = out / "runs"
    data_dir = prepare_data(config, out, progress)
    _, slices = dataset_slices(data_dir, config.architecture, progress)
    tasks = [t.name for t in slices.tasks if t.name != DENOISE.name]
    pre_train = config.train_config("pretrain", progress=progress)
    head_train = config.train_config("finetune", progress=progress)

    common = {"augment": config.augment, "progress": progress}

    def pretrained_model(path: Path) -> Path:
        return run_pretrain(data_dir, path, config.architecture, config.noise, pre_train,
                            name="pretrained", runs_dir=runs, **common)

    def separate_model(task: str):
        return lambda path: run_separate(data_dir, task, path, config.architecture,
                                         config.noise, pre_train, name=f"separate-{task}",
                                         runs_dir=runs, **common)

    def finetuned(options: FinetuneOptions, name: str, group: str = ""):
        return lambda path: run_finetune(pretrained, data_dir, path, options, head_train,
                                         name=name, runs_dir=runs / group, **common)

    pretrained = _build(models / "pretrained", pretrained_model)
    separate = [("separate denoise (= pretraining)", pretrained)]
    separate += [(f"separate {task}", _build(models / f"separate_{task}", separate_model(task)))
                 for task in tasks]
    recipe = config.finetune
    independent = _build(models / "independent",
                         finetuned(independent_options(config, tasks), "independent"))
    shared = [("UMS-Rep independent", independent)]
    if recipe.strategy != "independent":
        label = f"UMS-Rep {recipe.strategy}" + (f" ({recipe.weighting})"
                                                 if recipe.strategy == "joint" else "")
        shared.append((label, _build(models / "config_recipe", finetuned(
            copy.deepcopy(recipe), f"config-{recipe.strategy}"))))
    sections = [run_evaluate(data_dir, shared, separate, progress=progress,
                             title="Shared representation vs separate models (all tasks)")]
    groups = {"heterogeneous": config.benchmark.heterogeneous,
              "homogeneous": config.benchmark.homogeneous}
    for group, group_tasks in groups.items():
        ratio = {t: int(config.benchmark.ratio.get(t, 1)) for t in group_tasks}
        contenders = [("independent", independent),
                      ("alternating", _build(models / f"{group}_alternating", finetuned(
                          FinetuneOptions("alternating", list(group_tasks), ratio=ratio),
                          f"{group}-alternating", group)))]
        for weighting in config.benchmark.weightings:
            contenders.append((f"joint {weighting}", _build(
                models / f"{group}_joint_{weighting}", finetuned(
                    FinetuneOptions("joint", list(group_tasks), weighting=weighting),
                    f"{group}-joint-{weighting}", group))))
        sections.append(run_evaluate(data_dir, contenders, tasks=list(group_tasks),
                                     progress=progress,
                                     title=f"Fine-tuning strategies, {group} tasks "
                                           f"({', '.join(group_tasks)})"))
    markdown = "\n".join(section["markdown"] for section in sections)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    data = {"sections": [{k: v for k, v in s.items() if k != "markdown"} for s in sections],
            "config": config.to_dict(), "data": str(data_dir)}
    (out / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n",
                                     encoding="utf-8")
    return {"markdown": markdown, **data}


def independent_options(config: UMSRepConfig, tasks: list[str]) -> FinetuneOptions:
    """The config's independent-head recipe (feature views, per-task epochs) for ``tasks``:
    the UMS-Rep model every comparison is made with."""
    recipe = config.finetune
    return FinetuneOptions("independent", tasks, feature_views=recipe.feature_views,
                           task_epochs={t: e for t, e in recipe.task_epochs.items()
                                        if t in tasks})


def _build(path: Path, make) -> Path:
    """Reuse a finished model folder (a rerun continues where it stopped), else train it."""
    return path if (path / "model.json").is_file() else make(path)
