"""The one exception type for mistakes the user can fix."""


class UserInputError(Exception):
    """Bad input that the user can fix.

    The message is a single line that names the file or parameter at fault and says what
    to do. The command line prints it without a traceback and exits with status 2.
    """
