"""UMS-Rep against separate models over training seeds, on a finished ``umsrep benchmark``.

``umsrep benchmark`` compares one training run of each model, so a difference it finds
may be the luck of one seed. This script reuses that benchmark's dataset and pretrained
shared encoder and, for each training seed, trains the independent heads (the shipped
recipe) and one separate end-to-end model per labelled task, then scores every model on
the same test slices. It prints, per task, each seed's score, the mean +- SD over seeds
and in how many seeds the heads beat the separate model (with a one-sided sign-test p).

    .venv/bin/python benchmarks/umsrep_seeds.py UMSRep/Resources/Models/liver_mr.yaml bench/ \
        [--seeds 0,1,2,3,4]

The config must be the one the benchmark ran with. Seed 0 is the benchmark's own run
(its models are reused, not retrained). About 70 s per further seed on one CPU core;
models land in ``bench/seeds/``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from MultiTaskLib.metrics import sign_test
from UMSRepLib.benchmark import independent_options
from UMSRepLib.config import load_config
from UMSRepLib.errors import UserInputError
from UMSRepLib.model_files import read_card
from UMSRepLib.pipeline import run_evaluate, run_finetune, run_separate, set_threads
from UMSRepLib.tasks import DENOISE

#: task kind -> (metric key, name printed)
SCORE = {"segmentation": ("dice", "Dice"), "classification": ("accuracy", "accuracy")}


def seed_models(bench: Path, config, seed: int, tasks: list[str]) -> dict[str, Path]:
    """{"heads": bundle, "separate <task>": bundle} of one training seed."""
    if seed == 0:
        return {"heads": bench / "models" / "independent",
                **{f"separate {t}": bench / "models" / f"separate_{t}" for t in tasks}}
    folder = bench / "seeds" / f"seed{seed}"
    data, pretrained = bench / "data", bench / "models" / "pretrained"
    common = {"augment": config.augment, "runs_dir": folder / "runs", "overwrite": True}
    models = {}
    heads = folder / "independent"
    if not (heads / "model.json").is_file():
        run_finetune(pretrained, data, heads, independent_options(config, tasks),
                     config.train_config("finetune", seed=seed, progress=False),
                     name=f"independent-seed{seed}", **common)
    models["heads"] = heads
    for task in tasks:
        path = folder / f"separate_{task}"
        if not (path / "model.json").is_file():
            run_separate(data, task, path, config.architecture, config.noise,
                         config.train_config("pretrain", seed=seed, progress=False),
                         name=f"separate-{task}-seed{seed}", **common)
        models[f"separate {task}"] = path
    return models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="the config umsrep benchmark ran with")
    parser.add_argument("bench", type=Path, help="output folder of umsrep benchmark")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="training seeds, e.g. 0,1,2")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        print(f"umsrep_seeds: --seeds must be whole numbers separated by commas, got "
              f"{args.seeds!r}", file=sys.stderr)
        return 2
    if not (args.bench / "models" / "independent" / "model.json").is_file():
        print(f"umsrep_seeds: {args.bench} holds no finished umsrep benchmark; run "
              "`umsrep benchmark CONFIG --out` there first", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        set_threads(config.threads)
        tasks = [t for t in _tasks(args.bench) if t != DENOISE.name]
        scores: dict[str, dict[str, list[float]]] = {t: {"heads": [], "separate": []}
                                                     for t in tasks}
        score_names: dict[str, str] = {}
        for seed in seeds:
            models = seed_models(args.bench, config, seed, tasks)
            result = run_evaluate(args.bench / "data", list(models.items()), tasks=tasks)
            by_label = {m["label"]: m["metrics"] for m in result["models"]}
            for task in tasks:
                key, score_names[task] = SCORE[by_label["heads"][task]["kind"]]
                scores[task]["heads"].append(by_label["heads"][task][key])
                scores[task]["separate"].append(by_label[f"separate {task}"][task][key])
            print(f"seed {seed}: " + ", ".join(
                f"{t} {scores[t]['heads'][-1]:.3f} vs {scores[t]['separate'][-1]:.3f}"
                for t in tasks), flush=True)
    except UserInputError as error:
        print(f"umsrep_seeds: {error}", file=sys.stderr)
        return 2
    print(f"\nUMS-Rep independent heads vs separate models over seeds {args.seeds}")
    print("| task | score | heads, mean +- SD | separate, mean +- SD | heads better | "
          "sign test p |")
    print("|---|---|---|---|---:|---:|")
    for task, pair in scores.items():
        wins, _, p = sign_test(pair["heads"], pair["separate"])
        print(f"| {task} | {score_names[task]} | {_mean_sd(pair['heads'])} | "
              f"{_mean_sd(pair['separate'])} | {wins} of {len(seeds)} | {p:.3g} |")
    return 0


def _mean_sd(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):.3f} +- {spread:.3f}"


def _tasks(bench: Path) -> list[str]:
    return [task["name"] for task in read_card(bench / "models" / "independent")["tasks"]]


if __name__ == "__main__":
    sys.exit(main())
