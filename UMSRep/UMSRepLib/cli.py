"""The ``umsrep`` command: data, pretraining, fine-tuning, baselines, prediction, evaluation.

User mistakes (bad dataset, bad model file, bad option) end with one line on stderr and
exit status 2; success exits 0. Progress bars go to stderr and switch off when it is not
a terminal (or with ``--quiet``).
"""

from __future__ import annotations

import argparse
import sys

from MultiTaskLib.config import ConfigError

from . import __version__
from .errors import UserInputError

EXIT_USER_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.handler(args) or 0)
    except (UserInputError, ConfigError) as error:
        message = " ".join(str(error).split())
        print(f"umsrep {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("umsrep: interrupted", file=sys.stderr)
        return 130


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
