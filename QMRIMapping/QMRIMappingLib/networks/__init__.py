"""Self-supervised multi-task networks for liver T1rho/T2 mapping (Huang et al.,
"Uncertainty-weighted multi-tasking for T1rho and T2 mapping in the liver with
self-supervised learning", arXiv 2303.07623).

* ``config`` / ``factory``: JSON configs, :func:`build_model`, save/load of weights;
* ``models``: the FiLM-conditioned U-Nets (baseline, HOMOU, HETEU, STSM, ST);
* ``losses``: relaxation constraint (eqs. 3-5), supervised L1 label modes, per-task losses
  for MultiTaskLib's weightings;
* ``dataset`` / ``cohort`` / ``samples``: training slices from the phantom or user folders;
* ``inference``: :func:`predict_maps`; ``step``: :func:`mapping_step` for MultiTaskLib's
  Trainer;
* ``train_spec`` / ``training_run``: ``qmri train`` configs and runs (k-fold, DDP);
* ``model_card`` / ``registry``: shipped weights with sha256-checked model cards,
  :func:`available_models` and :func:`load_verified`.
"""

from .cohort import TEST_SEED_START, Cohort, build_cohort, held_out_cohort, load_folder_cohort
from .config import ARCHITECTURES, PAPER_PAIRS_MS, default_config, validate_config
from .dataset import MappingSliceDataset
from .factory import (
    build_model,
    count_parameters,
    default_models,
    load_model,
    model_size_mb,
    save_model,
)
from .inference import predict_maps
from .losses import LossOptions, relaxation_loss, relaxation_residual, task_losses
from .models import MappingNetwork, MappingOutput
from .registry import ModelEntry, available_models, load_verified, resolve_model
from .step import mapping_step

__all__ = [
    "ARCHITECTURES", "PAPER_PAIRS_MS", "TEST_SEED_START", "Cohort", "LossOptions",
    "MappingNetwork", "MappingOutput", "MappingSliceDataset", "ModelEntry", "available_models",
    "build_cohort", "build_model", "load_verified", "resolve_model",
    "count_parameters", "default_config", "default_models", "held_out_cohort",
    "load_folder_cohort", "load_model", "mapping_step", "model_size_mb", "predict_maps",
    "relaxation_loss", "relaxation_residual", "save_model", "task_losses", "validate_config",
]
