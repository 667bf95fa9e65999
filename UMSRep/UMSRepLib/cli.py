"""The ``umsrep`` command: data, pretraining, fine-tuning, baselines, prediction, evaluation.

User mistakes (bad dataset, bad model file, bad option) end with one line on stderr and
exit status 2; success exits 0. Progress bars go to stderr and switch off when it is not
a terminal (or with ``--quiet``).
"""

from __future__ import annotations

import argparse
import sys

from MultiTaskLib.config import ConfigError
from QMRIMappingLib.cli_runner import run_command

from . import __version__
from .errors import UserInputError


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, user_errors=(UserInputError, ConfigError))


def build_parser() -> argparse.ArgumentParser:
    from . import cli_commands

    parser = argparse.ArgumentParser(
        prog="umsrep",
        description="UMS-Rep: a denoising-autoencoder representation shared by task heads "
                    "(segmentation, classification, denoising) for one imaging modality.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in cli_commands.COMMANDS:
        add(commands)
    return parser


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
