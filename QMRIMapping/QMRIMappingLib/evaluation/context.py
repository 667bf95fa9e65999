"""Shared state of one evaluation run: the models and cached test cases and maps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..mapping_input import MappingInput
from ..phantom import PhantomSubject
from .config import EvalConfig
from .models import EvalModel
from .scoring import (
    FILTERED,
    NLLS,
    TWO_POINT,
    filtered_two_point_maps,
    ground_truth,
    network_maps,
    nlls_maps,
    two_point_maps,
)
from .subjects import regions, test_subjects


@dataclass
class TestCase:
    """One test subject with its NLLS reference, ground truth and scoring regions."""

    subject: PhantomSubject
    mapping_input: MappingInput
    mask: np.ndarray
    gt: dict[str, np.ndarray]
    nlls: dict[str, np.ndarray]
    regions: dict[str, np.ndarray]


@dataclass
class Context:
    """Config, models and caches shared by the experiments."""

    config: EvalConfig
    models: dict[str, EvalModel]
    log: Callable[[str], None] = print
    _cases: dict = field(default_factory=dict)
    _maps: dict = field(default_factory=dict)

    @property
    def pair(self) -> tuple[float, float]:
        return tuple(float(t) for t in self.config.test["pair"])

    @property
    def snr(self) -> float:
        return float(self.config.test["snr"])

    def cases(self, snr: float | None = None, motion_mm: float = 0.0) -> list[TestCase]:
        """The held-out test cohort at ``snr`` (default the config's) and motion."""
        snr = self.snr if snr is None else float(snr)
        key = (snr, float(motion_mm))
        if key not in self._cases:
            test = self.config.test
            self.log(f"test cohort: {test['subjects']} subjects, SNR {snr:g}, motion "
                     f"{motion_mm:g} mm")
            cases = []
            for subject in test_subjects(test["subjects"], snr, slices=test["slices"],
                                         matrix=test["matrix"], motion_mm=motion_mm):
                mapping_input = subject.mapping_input()
                mask = subject.body_mask.astype(bool)
                cases.append(TestCase(subject, mapping_input, mask, ground_truth(subject),
                                      nlls_maps(mapping_input, mask), regions(subject)))
            self._cases[key] = cases
        return self._cases[key]

    @property
    def filter_sigma_px(self) -> float:
        """Smoothing of the residual networks' base (HOMOU's config), 0 when none."""
        config = self.models["homou"].network.config
        return float(config["residual_smoothing_px"]) if config["residual"] else 0.0

    def networks(self, keys: Sequence[str]) -> list:
        return [self.models[key].network for key in keys]

    def maps(self, method: str | tuple[str, ...], case: TestCase,
             pair: Sequence[float] | None = None) -> dict[str, np.ndarray]:
        """Maps of ``method`` (NLLS, Two-point or a tuple of model keys) on ``case``."""
        pair = tuple(self.pair if pair is None else pair)
        key = (method, id(case), pair)
        if key not in self._maps:
            if method == NLLS:
                maps = case.nlls
            elif method == TWO_POINT:
                maps = two_point_maps(case.mapping_input, case.mask, pair)
            elif method == FILTERED:
                maps = filtered_two_point_maps(case.mapping_input, case.mask, pair,
                                               self.filter_sigma_px)
            else:
                maps = network_maps(self.networks(method), case.mapping_input, case.mask,
                                    pair)
            self._maps[key] = maps
        return self._maps[key]
