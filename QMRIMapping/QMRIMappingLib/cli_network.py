"""Sub-commands of ``qmri`` for the mapping networks: ``train`` and ``evaluate``.

``qmri train --config FILE`` runs on CPU or CUDA; for several GPUs or nodes start it
with ``torchrun --nproc_per_node N -m QMRIMappingLib.cli train --config FILE`` (DDP).
"""

from __future__ import annotations

import os
from pathlib import Path


def add_train(commands) -> None:
    parser = commands.add_parser(
        "train", help="train a T1rho/T2 mapping network from a YAML/JSON config",
        description="Train a mapping network (Huang et al., arXiv 2303.07623) described by "
                    "a YAML or JSON config: architecture, loss and label mode, loss "
                    "weighting, cohort (phantom or your 4+4 protocol folders), k-fold split "
                    "by subject, optimiser (default Adam, lr 5e-4, weight decay 1e-4, batch "
                    "4). Writes last.pt/best.pt checkpoints, train_log.csv, <name>.pt and "
                    "its model card <name>.json. Multi-GPU / multi-node: torchrun "
                    "--nproc_per_node N -m QMRIMappingLib.cli train --config FILE.")
    parser.add_argument("--config", type=Path, required=True, help="training config file")
    parser.add_argument("--out", type=Path,
                        help="output folder (default build/models/<name>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last.pt")
    parser.add_argument("--fold", type=int, metavar="K",
                        help="validate on fold K of the config's k-fold split (0-based)")
    parser.add_argument("--folds", type=int, metavar="N",
                        help="number of cross-validation folds (overrides the config)")
    parser.add_argument("--epochs", type=int, help="override training.epochs")
    parser.add_argument("--device", help="override training.device (auto, cpu, cuda)")
    parser.add_argument("--export", type=Path, metavar="DIR",
                        help="also copy <name>.pt and <name>.json into DIR")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch CPU threads (overrides the config's threads; default "
                             "torch's)")
    parser.add_argument("--save-rank-weights", action="store_true",
                        help="every process writes its final weights to rank<k>.pt (to check "
                             "that a DDP run kept them identical)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_run_train)


def add_evaluate(commands) -> None:
    parser = commands.add_parser(
        "evaluate", help="compare mapping methods on the held-out phantom cohort",
        description="Run the evaluation described by a config on the held-out phantom "
                    "cohort (seeds >= 900000): the paper's comparison against the NLLS "
                    "reference and the ground truth, robustness (T2 loss scale, motion), "
                    "the manual-lambda sweep, label choice (bias and variance), training "
                    "seeds, the network-design ablation and speed. "
                    "Models missing from the config's model folder are trained first. "
                    "Writes CSV, markdown tables and PNG figures to --out.")
    parser.add_argument("--config", type=Path, required=True, help="evaluation config")
    parser.add_argument("--out", type=Path, help="output folder (default: the config's)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=_run_evaluate)


def _run_train(args) -> int:
    from .errors import UserInputError
    from .networks.train_spec import load_spec
    from .networks.training_run import run_training

    overrides: dict = {}
    if args.fold is not None or args.folds is not None:
        overrides["validation"] = {}
        if args.fold is not None:
            overrides["validation"]["fold"] = args.fold
        if args.folds is not None:
            overrides["validation"]["folds"] = args.folds
    training = {}
    if args.epochs is not None:
        training["epochs"] = args.epochs
    if args.device is not None:
        training["device"] = args.device
    if training:
        overrides["training"] = training
    spec = load_spec(args.config, overrides)
    if args.threads is not None:
        if args.threads < 1:
            raise UserInputError(f"--threads must be at least 1 (got {args.threads})")
        spec.threads = args.threads  # a run setting, not part of the recorded config
    out = args.out or Path("build") / "models" / spec.name
    card = run_training(spec, out, resume=args.resume, export_dir=args.export,
                        progress=False if args.quiet else None,
                        save_rank_weights=args.save_rank_weights)
    if int(os.environ.get("RANK", "0")) == 0:
        metrics = card.get("metrics", {})
        shown = ", ".join(f"{k} {v:.3g}" for k, v in metrics.items()
                          if k.startswith("rmae_") and isinstance(v, float))
        print(f"trained {card['name']} ({card['label']}) in {card['training_time_s']:.0f} s; "
              f"best epoch {card['training_result']['best_epoch']}"
              + (f"; validation {shown} %" if shown else ""))
        print(f"wrote {out / (card['name'] + '.pt')} and its model card "
              f"{card['name']}.json (sha256 {card['sha256'][:12]}...)")
    return 0


def _run_evaluate(args) -> int:
    from .evaluation.run import run_evaluation

    written = run_evaluation(args.config, args.out, progress=not args.quiet)
    print(f"wrote {len(written)} files to {written[0].parent if written else args.out}")
    for path in written:
        if path.suffix == ".md":
            print(f"  {path}")
    return 0
