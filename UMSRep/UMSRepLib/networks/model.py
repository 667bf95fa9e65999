"""The UMS-Rep model: one shared encoder and a head per task.

Heads live in a ``ModuleDict`` keyed by task name and can be attached at any time with
:meth:`UMSRepModel.add_head`; attaching a head never touches the encoder's weights, so a
representation trained once serves tasks that did not exist when it was trained (the
paper's central point). ``forward`` takes either one batch and a task name, or a dict
``{task: batch}`` (joint fine-tuning: one call, so DistributedDataParallel sees a single
forward pass per step) and returns the matching outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

from ..tasks import TaskSpec
from .encoder import SharedEncoder


class UMSRepModel(nn.Module):
    """Shared encoder plus task heads."""

    def __init__(self, encoder: SharedEncoder, heads: Mapping[str, nn.Module] | None = None,
                 tasks: Mapping[str, TaskSpec] | None = None) -> None:
        super().__init__()
        # channels-last weights match the channels-last activations (blocks.channels_last)
        self.encoder = encoder.to(memory_format=torch.channels_last)
        self.heads = nn.ModuleDict()
        self.tasks: dict[str, TaskSpec] = {}
        for name, head in (heads or {}).items():
            spec = (tasks or {}).get(name)
            if spec is None:
                raise ValueError(f"head {name!r} has no TaskSpec")
            self.add_head(spec, head)

    def add_head(self, task: TaskSpec, head: nn.Module) -> UMSRepModel:
        """Attach ``head`` for ``task``; the encoder is left exactly as it was."""
        if task.name in self.heads:
            raise ValueError(f"the model already has a head for task {task.name!r}")
        self.heads[task.name] = head.to(memory_format=torch.channels_last)
        self.tasks[task.name] = task
        return self

    def forward(self, inputs: Tensor | Mapping[str, Tensor], task: str | None = None
                ) -> Tensor | dict[str, Tensor]:
        if isinstance(inputs, Mapping):
            return {name: self.run_task(name, batch) for name, batch in inputs.items()}
        if task is None:
            raise ValueError("give the task name when forwarding a single batch")
        return self.run_task(task, inputs)

    def run_task(self, task: str, batch: Tensor) -> Tensor:
        """Output of one head for one batch (N, C, H, W)."""
        if task not in self.heads:
            raise KeyError(f"no head for task {task!r}; this model has "
                           f"{', '.join(self.heads) or 'no heads'}")
        return self.heads[task](self.encoder(batch))

    def subset(self, tasks: Iterable[str]) -> UMSRepModel:
        """A model sharing this encoder and the named heads (the same module objects)."""
        names = list(tasks)
        return UMSRepModel(self.encoder, {name: self.heads[name] for name in names},
                           {name: self.tasks[name] for name in names})
