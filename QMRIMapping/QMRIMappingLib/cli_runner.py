"""Run a sub-command of one of the extension's commands (``qmri``, ``umsrep``) the same way.

User mistakes end with one line on stderr (``PROG COMMAND: error: …``) and exit status 2;
success exits 0; Ctrl-C exits 130. Both commands share this so they behave alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .errors import UserInputError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None, *,
                user_errors: tuple[type[BaseException], ...] = (UserInputError,),
                before: Callable[[], object] | None = None,
                interrupted_note: str = "") -> int:
    """Parse ``argv``, run the chosen handler and turn user errors into one line + exit 2.

    ``before`` runs once a command was chosen (e.g. process tuning). Messages are folded
    onto one line whatever they contain.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USER_ERROR
    if before is not None:
        before()
    try:
        return int(args.handler(args) or 0)
    except user_errors as error:
        message = " ".join(str(error).split())
        print(f"{parser.prog} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        suffix = f"; {interrupted_note}" if interrupted_note else ""
        print(f"{parser.prog}: interrupted{suffix}", file=sys.stderr)
        return EXIT_INTERRUPTED
