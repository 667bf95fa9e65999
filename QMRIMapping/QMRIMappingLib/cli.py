"""The ``qmri`` command: phantom, inspect, fit, demo, train and evaluate.

User mistakes end with one line on stderr and exit status 2; success exits 0.
"""

from __future__ import annotations

import argparse
import sys

from MultiTaskLib.config import ConfigError

from . import __version__
from .cli_runner import run_command
from .errors import UserInputError
from .performance import tune_memory_allocator


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, user_errors=(UserInputError, ConfigError),
                       before=tune_memory_allocator,
                       interrupted_note="no output was written")


def build_parser() -> argparse.ArgumentParser:
    from . import cli_commands, cli_network

    parser = argparse.ArgumentParser(
        prog="qmri",
        description="T1rho / T2 / T2* relaxometry mapping from DICOM or dcm2niix NIfTI+JSON. "
                    "All times are in milliseconds unless a sidecar says seconds.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_commands.add_phantom(commands)
    cli_commands.add_inspect(commands)
    cli_commands.add_fit(commands)
    cli_commands.add_demo(commands)
    cli_network.add_train(commands)
    cli_network.add_evaluate(commands)
    return parser


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
