"""How the per-task losses of a multi-task network add up to the one scalar that is trained.

Every strategy is a ``torch.nn.Module`` with the same interface, so a training loop does
not care which one it got and learned weights (uncertainty σ) are optimised together
with the network simply by handing ``weighting.parameters()`` to the optimiser:

* ``forward(losses)``: ``{task: scalar loss}`` → weighted total (scalar tensor). A
  subset of the tasks may be given (a batch without labels for one task); unknown task
  names are an error.
* ``state()``: ``{task: current weight or σ}`` for logging; ``state_kind`` says which
  ("weight" or "sigma") and names the log columns ``<state_kind>_<task>``.
* ``epoch_end(epoch_losses)``: called once per epoch with the epoch-mean unweighted
  training loss of each task; only dynamic weight average uses it.

Strategies: :class:`FixedWeighting` (manual λ, Huang et al.), :class:`UncertaintyWeighting`
(homoscedastic uncertainty, Kendall, Gal & Cipolla 2018; Laplace form of Huang et al.)
and :class:`DynamicWeightAverage` (Liu, Johns & Davison 2019). :func:`make_weighting`
builds one by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from MultiTaskLib.laplace import DEFAULT_MIN_SIGMA, log_scale_for_sigma, sigma_from_log_scale

LIKELIHOODS = ("laplace", "gaussian")


class LossWeighting(nn.Module):
    """Base class: task bookkeeping and input checks shared by every strategy."""

    state_kind: ClassVar[str] = "weight"

    def __init__(self, tasks: Sequence[str]) -> None:
        super().__init__()
        self.tasks: tuple[str, ...] = _check_tasks(tasks)

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:
        """Weighted total of the given task losses (a scalar tensor)."""
        present = self._check_losses(losses)
        return self._combine({task: losses[task] for task in present})

    def state(self) -> dict[str, float]:
        """Current weight (or σ) of every task, as plain floats for logging."""
        raise NotImplementedError

    def epoch_end(self, epoch_losses: Mapping[str, float]) -> None:
        """End-of-epoch hook; a no-op for strategies whose weights do not follow epochs."""

    def _combine(self, losses: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError

    def _check_losses(self, losses: Mapping[str, Tensor]) -> list[str]:
        unknown = [name for name in losses if name not in self.tasks]
        if unknown:
            raise ValueError(f"loss for unknown task {unknown[0]!r}; this weighting knows "
                             f"{', '.join(self.tasks)}")
        present = [task for task in self.tasks if task in losses]
        if not present:
            raise ValueError(f"no task loss given; expected some of {', '.join(self.tasks)}")
        for task in present:
            if not isinstance(losses[task], Tensor) or losses[task].numel() != 1:
                raise ValueError(f"loss of task {task!r} must be a scalar tensor")
        return present

    def extra_repr(self) -> str:
        return f"tasks={self.tasks}"


class FixedWeighting(LossWeighting):
    """Manual weighting: total = Σ_k λ_k·L_k with fixed λ_k ≥ 0.

    Huang et al. compare learned weighting against manual pairs λ_a + λ_b = 1
    (:func:`manual_pair`). The weights are a buffer, so they travel with checkpoints.
    """

    def __init__(self, weights: Mapping[str, float]) -> None:
        super().__init__(list(weights))
        values = [float(weights[task]) for task in self.tasks]
        for task, value in zip(self.tasks, values, strict=True):
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"weight of task {task!r} must be a finite number >= 0, "
                                 f"got {weights[task]}")
        if sum(values) <= 0.0:
            raise ValueError("at least one task weight must be positive")
        self.register_buffer("weights", torch.tensor(values, dtype=torch.float64))

    def _combine(self, losses: dict[str, Tensor]) -> Tensor:
        return _weighted_sum(losses, self.tasks, self.weights)

    def state(self) -> dict[str, float]:
        return dict(zip(self.tasks, self.weights.tolist(), strict=True))


def manual_pair(lambda_a: float, names: Sequence[str]) -> FixedWeighting:
    """λ_a·L_a + (1 − λ_a)·L_b: the manual weighting of Huang et al. (λ_a + λ_b = 1)."""
    if len(names) != 2:
        raise ValueError(f"manual_pair needs exactly two task names, got {list(names)}")
    if not 0.0 <= float(lambda_a) <= 1.0:
        raise ValueError(f"lambda_a must lie in [0, 1], got {lambda_a}")
    return FixedWeighting({names[0]: float(lambda_a), names[1]: 1.0 - float(lambda_a)})


class UncertaintyWeighting(LossWeighting):
    """Homoscedastic (task) uncertainty weighting with one learned scale σ_k per task.

    Kendall, Gal & Cipolla (CVPR 2018) treat each task's loss as the negative
    log-likelihood of a distribution whose scale σ_k is learned with the network:

    * ``likelihood="laplace"`` (Huang et al., for L_k the task's mean absolute error):
      total = Σ_k L_k/σ_k + log(2σ_k)
    * ``likelihood="gaussian"`` (Kendall et al., eq. 7, for L_k a mean squared error):
      total = Σ_k L_k/(2σ_k²) + log σ_k

    A noisy (hard) task gets a large σ_k and so a small effective weight, while the
    log term stops σ from growing without bound. At the optimum σ_k = L_k (Laplace) or
    σ_k² = L_k (Gaussian).

    σ_k = σ_min + exp(s_k) with learned s_k (see :mod:`MultiTaskLib.laplace`): the floor
    ``min_sigma`` keeps σ from collapsing to 0 when a task's loss approaches 0 (the total
    would then diverge to −∞). s_k starts at log(σ₀ − σ_min) so σ_k starts exactly at
    ``init_sigma`` (default 1, i.e. equal weights, as in Huang et al.). Do not apply weight
    decay to ``log_scale``: it would pull σ towards 1 + σ_min (the Trainer excludes it).
    """

    state_kind: ClassVar[str] = "sigma"

    def __init__(self, tasks: Sequence[str], likelihood: str = "laplace",
                 init_sigma: float = 1.0, min_sigma: float = DEFAULT_MIN_SIGMA) -> None:
        super().__init__(tasks)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.likelihood = likelihood
        self.min_sigma = float(min_sigma)
        start = log_scale_for_sigma(float(init_sigma), self.min_sigma)
        self.log_scale = nn.Parameter(torch.full((len(self.tasks),), start))

    def sigma(self) -> Tensor:
        """σ_k of every task, in task order (differentiable)."""
        return sigma_from_log_scale(self.log_scale, self.min_sigma)

    def _combine(self, losses: dict[str, Tensor]) -> Tensor:
        sigma = self.sigma()
        total = None
        for index, task in enumerate(self.tasks):
            if task not in losses:
                continue
            loss, s = losses[task].reshape(()), sigma[index].to(losses[task].dtype)
            if self.likelihood == "laplace":
                term = loss / s + torch.log(2.0 * s)
            else:
                term = loss / (2.0 * s.square()) + torch.log(s)
            total = term if total is None else total + term
        return total

    def state(self) -> dict[str, float]:
        return dict(zip(self.tasks, self.sigma().detach().cpu().tolist(), strict=True))

    def extra_repr(self) -> str:
        return f"tasks={self.tasks}, likelihood={self.likelihood!r}, min_sigma={self.min_sigma}"


class DynamicWeightAverage(LossWeighting):
    """Dynamic weight average (DWA) of Liu, Johns & Davison (CVPR 2019, MTAN), eq. 7:

        λ_k(t) = K·exp(w_k(t−1)/T) / Σ_i exp(w_i(t−1)/T),   w_k(t−1) = L_k(t−1)/L_k(t−2)

    with L_k the epoch-mean training loss of task k, K the number of tasks and T the
    temperature (larger T: more uniform weights). λ_k = 1 for the first two epochs. A
    task whose loss falls slowly (w_k near 1) gets more weight than one that falls fast.
    :meth:`epoch_end` updates the weights; the loss history is a buffer, so a resumed run
    continues with the same weights. total = Σ_k λ_k·L_k, λ constant w.r.t. gradients.
    """

    def __init__(self, tasks: Sequence[str], temperature: float = 2.0) -> None:
        super().__init__(tasks)
        if not (math.isfinite(temperature) and temperature > 0.0):
            raise ValueError(f"temperature must be a positive number, got {temperature}")
        self.temperature = float(temperature)
        count = len(self.tasks)
        self.register_buffer("weights", torch.ones(count, dtype=torch.float64))
        self.register_buffer("last_losses", torch.full((count,), math.nan, dtype=torch.float64))
        self.register_buffer("previous_losses", torch.full((count,), math.nan,
                                                           dtype=torch.float64))
        self.register_buffer("epochs_seen", torch.zeros((), dtype=torch.int64))

    def _combine(self, losses: dict[str, Tensor]) -> Tensor:
        return _weighted_sum(losses, self.tasks, self.weights)

    def epoch_end(self, epoch_losses: Mapping[str, float]) -> None:
        missing = [task for task in self.tasks if task not in epoch_losses]
        if missing:
            raise ValueError(f"dynamic weight average needs the epoch loss of every task; "
                             f"missing {missing[0]!r}")
        current = torch.tensor([float(epoch_losses[task]) for task in self.tasks],
                               dtype=torch.float64, device=self.weights.device)
        if not torch.isfinite(current).all():
            raise ValueError(f"non-finite epoch loss given to dynamic weight average: "
                             f"{dict(epoch_losses)}")
        self.previous_losses.copy_(self.last_losses)
        self.last_losses.copy_(current)
        self.epochs_seen += 1
        if int(self.epochs_seen) >= 2:
            ratio = self.last_losses / self.previous_losses.clamp(min=1e-12)
            self.weights.copy_(len(self.tasks) * torch.softmax(ratio / self.temperature, dim=0))

    def state(self) -> dict[str, float]:
        return dict(zip(self.tasks, self.weights.tolist(), strict=True))

    def extra_repr(self) -> str:
        return f"tasks={self.tasks}, temperature={self.temperature}"


def make_weighting(name: str, tasks: Sequence[str], **options: Any) -> LossWeighting:
    """Build a weighting by name: "fixed" (alias "manual"), "uncertainty" or "dwa".

    ``options`` go to the constructor (e.g. ``likelihood``, ``min_sigma`` or
    ``temperature``). "fixed" takes ``weights={task: λ}`` or, for two tasks,
    ``lambda_a``; without either, every task gets λ = 1/K (weights summing to one, as in
    Huang et al.'s manual weighting).
    """
    key = str(name).strip().lower()
    tasks = _check_tasks(tasks)
    if key in ("fixed", "manual"):
        allowed = {"weights", "lambda_a"}
        _check_options(key, options, allowed)
        if "weights" in options and "lambda_a" in options:
            raise ValueError("give either 'weights' or 'lambda_a' for fixed weighting, not both")
        if "lambda_a" in options:
            return manual_pair(options["lambda_a"], tasks)
        weights = options.get("weights") or {task: 1.0 / len(tasks) for task in tasks}
        if set(weights) != set(tasks):
            raise ValueError(f"fixed weights name tasks {sorted(weights)}, expected {list(tasks)}")
        return FixedWeighting({task: weights[task] for task in tasks})
    if key == "uncertainty":
        _check_options(key, options, {"likelihood", "init_sigma", "min_sigma"})
        return UncertaintyWeighting(tasks, **options)
    if key == "dwa":
        _check_options(key, options, {"temperature"})
        return DynamicWeightAverage(tasks, **options)
    raise ValueError(f"unknown loss weighting {name!r}; choose fixed, uncertainty or dwa")


def _weighted_sum(losses: dict[str, Tensor], tasks: tuple[str, ...], weights: Tensor) -> Tensor:
    total = None
    for index, task in enumerate(tasks):
        if task in losses:
            loss = losses[task].reshape(())
            term = weights[index].to(dtype=loss.dtype, device=loss.device) * loss
            total = term if total is None else total + term
    return total


def _check_tasks(tasks: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tasks, str):
        raise ValueError(f"tasks must be a sequence of names, got the string {tasks!r}")
    names = tuple(tasks)
    if not names:
        raise ValueError("a loss weighting needs at least one task")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"task names must be non-empty strings, got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"task names must be unique, got {list(names)}")
    return names


def _check_options(name: str, options: Mapping[str, Any], allowed: set[str]) -> None:
    for key in options:
        if key not in allowed:
            raise ValueError(f"unknown option {key!r} for {name} weighting; "
                             f"valid: {', '.join(sorted(allowed))}")
