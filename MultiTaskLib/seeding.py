"""Seeding and capture/restore of every random number generator a training run uses.

A run is reproducible when Python's ``random``, NumPy's global generator and torch's CPU
(and CUDA) generators start from the seed, DataLoader workers derive their seeds from
torch's, and, for a resumed run, all of them continue from the state saved at the end of
the last finished epoch. States are stored as tensors and plain Python values only, so
checkpoints load with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python ``random``, NumPy's global generator and torch (CPU and all GPUs)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed NumPy and ``random`` from the worker's torch seed.

    torch seeds each worker with base_seed + worker_id, but NumPy and ``random`` would
    otherwise start from the state copied (fork) or freshly drawn (spawn) in every worker,
    so random augmentations would repeat across workers or differ between runs.
    """
    del worker_id  # torch.initial_seed() already includes it
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def epoch_seed(seed: int, epoch: int) -> int:
    """Seed of the loader shuffling in a given epoch: depends on (seed, epoch) only.

    Reseeding per epoch (rather than letting one generator run on) makes the sample
    order of epoch e the same in a straight run and in a run resumed at epoch e.
    """
    return (int(seed) * 1_000_003 + int(epoch)) % 2**63


def capture_rng_state() -> dict[str, Any]:
    """Snapshot of the Python, NumPy and torch generators as tensors and plain values."""
    version, internal, gauss_next = random.getstate()
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(position), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached_gaussian)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put every generator back to a :func:`capture_rng_state` snapshot."""
    python = state["python"]
    random.setstate((python["version"], tuple(int(v) for v in python["state"].tolist()),
                     python["gauss_next"]))
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["pos"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and torch.cuda.is_available():
        cuda_states = list(state["cuda"])
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
