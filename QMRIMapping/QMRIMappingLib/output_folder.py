"""All-or-nothing output folders: write into a hidden sibling, then move into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UserInputError


def check_output_folder(out_dir: str | Path, overwrite: bool) -> Path:
    """Refuse an existing folder (unless ``overwrite``) or one that cannot be written."""
    out = Path(out_dir).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise UserInputError(f"output {out} exists and is not a folder; choose another --out")
    if out.exists() and not overwrite:
        raise UserInputError(
            f"output folder {out} already exists; choose another --out or add --overwrite")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UserInputError(f"output folder {out} cannot be created: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserInputError(f"output folder {out} cannot be created: {parent} is not writable")
    try:  # permissions alone do not tell (read-only mounts, /proc): try it
        os.rmdir(tempfile.mkdtemp(prefix=".qmri-write-test-", dir=parent))
    except OSError as error:
        raise UserInputError(
            f"output folder {out} cannot be created in {parent} ({error.strerror}); "
            "choose another --out") from error
    return out


@contextmanager
def staged_output(out_dir: str | Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out_dir`` only if the block succeeds.

    Nothing is left behind when the block raises, and an existing folder is replaced
    only after the new one is complete.
    """
    out = check_output_folder(out_dir, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as error:
        raise UserInputError(
            f"output folder {out} cannot be created ({error.strerror}); choose another --out"
        ) from error
    try:
        yield staging
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
