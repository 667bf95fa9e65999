"""An optional tqdm progress bar that costs nothing when switched off."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_iter(items: Iterable[T], enabled: bool, description: str,
                  total: int | None = None) -> Iterator[T]:
    """Yield ``items``, drawing a tqdm bar on stderr when ``enabled``."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=description, total=total, unit="file", leave=False,
                    disable=None)  # None: no bar when stderr is not a terminal
