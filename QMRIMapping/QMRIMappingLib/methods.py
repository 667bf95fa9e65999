"""Which mapping methods and models this installation offers, and running one of them.

The module's method chooser is filled from :func:`available_methods`, so it never offers
what the core cannot run. ``nlls`` and ``two-point`` are always there. ``network`` is
listed too but only *available* once the network code (issue 4) provides models; the
seam it must fill, looked up at call time so this file needs no change:

* ``QMRIMappingLib.mapping.available_models()`` or
  ``QMRIMappingLib.networks.available_models()`` returning an iterable of model
  descriptions (a string, or an object/dict with ``name`` and optionally ``label``);
* ``"network"`` in ``QMRIMappingLib.mapping.METHODS`` and
  ``compute_maps(mapping_input, "network", options, mask, model=<name>)``.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

import numpy as np

from .errors import UserInputError
from .fitting import FitOptions


@dataclass(frozen=True)
class MethodInfo:
    """A mapping method as the user sees it.

    ``chunked`` methods fit voxel by voxel, so a caller may run them in parts to report
    progress and stay responsive; the others run in one call.
    """

    name: str
    label: str
    description: str
    needs_model: bool
    available: bool
    reason: str
    chunked: bool


@dataclass(frozen=True)
class ModelInfo:
    """A trained network model that the ``network`` method can run."""

    name: str
    label: str


NLLS = MethodInfo("nlls", "NLLS (4+4)",
                  "voxel-wise non-linear least squares over all preparation times "
                  "(4 spin-lock + 4 T2-prep images with the shared zero image)",
                  False, True, "", True)
TWO_POINT = MethodInfo("two-point", "Two-point",
                       "closed form from the zero image and one later image per map",
                       False, True, "", True)


def available_models() -> list[ModelInfo]:
    """Network models installed with the core (empty until issue 4 ships some)."""
    for module_name in ("QMRIMappingLib.mapping", "QMRIMappingLib.networks"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        lister = getattr(module, "available_models", None)
        if callable(lister):
            return [_model_info(entry) for entry in lister()]
    return []


def network_status() -> tuple[bool, str]:
    """Whether the network method can run now, and why not when it cannot."""
    from . import mapping

    if "network" not in getattr(mapping, "METHODS", ()):
        return False, "the network method is not part of this version of QMRIMappingLib"
    if not available_models():
        return False, "no trained network model is installed"
    return True, ""


def available_methods() -> list[MethodInfo]:
    """All methods, the network one with ``available`` and a reason when it cannot run."""
    ready, reason = network_status()
    network = MethodInfo("network", "Network (multi-task U-Net)",
                         "pretrained multi-task network from the two-point inputs",
                         True, ready, reason, False)
    return [NLLS, TWO_POINT, network]


def method_info(name: str) -> MethodInfo:
    """The :class:`MethodInfo` of ``name``; unknown or unavailable methods are refused."""
    for info in available_methods():
        if info.name == name:
            if not info.available:
                raise UserInputError(f"method '{name}' cannot run: {info.reason}")
            return info
    known = ", ".join(info.name for info in available_methods())
    raise UserInputError(f"method '{name}' is unknown; use one of {known}")


def cuda_status() -> tuple[bool, str]:
    """Whether PyTorch sees a CUDA GPU, with a message saying what was found."""
    try:
        import torch
    except ImportError:
        return False, "PyTorch is not installed, so no GPU can be used"
    if not torch.cuda.is_available():
        built = getattr(torch.version, "cuda", None)
        if not built:
            return False, (f"this PyTorch ({torch.__version__}) is a CPU-only build; install a "
                           "CUDA build of PyTorch to use the GPU")
        return False, "PyTorch has CUDA support but finds no usable GPU or driver"
    return True, f"CUDA GPU: {torch.cuda.get_device_name(0)}"


def run_method(mapping_input, method: str, options: FitOptions | None = None,
               mask: np.ndarray | None = None, two_point_times: dict | None = None,
               model: str | None = None) -> dict:
    """Fit every map of ``mapping_input`` with ``method``; returns {map name: MapOutcome}."""
    from .mapping import compute_maps

    info = method_info(method)
    if info.needs_model:
        if not model:
            raise UserInputError(f"method '{method}' needs a model; choose one of "
                                 f"{', '.join(m.name for m in available_models())}")
        if "model" not in inspect.signature(compute_maps).parameters:
            raise UserInputError(f"this QMRIMappingLib cannot run '{method}' models yet")
        return compute_maps(mapping_input, method, options, mask, two_point_times, model=model)
    return compute_maps(mapping_input, method, options, mask, two_point_times)


def _model_info(entry) -> ModelInfo:
    if isinstance(entry, str):
        return ModelInfo(entry, entry)
    if isinstance(entry, dict):
        return ModelInfo(str(entry["name"]), str(entry.get("label", entry["name"])))
    name = str(entry.name)
    return ModelInfo(name, str(getattr(entry, "label", name)))
