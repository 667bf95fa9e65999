"""Exceptions for mistakes the user can fix, shared with QMRIMappingLib.

:class:`UserInputError` is QMRIMappingLib's class (re-exported), so the ``umsrep``
command reports a bad phantom argument and a bad dataset the same way: one line, exit
status 2. :class:`DatasetError` and :class:`ModelFileError` are subclasses that say
which kind of input was at fault.
"""

from __future__ import annotations

from QMRIMappingLib.errors import UserInputError

__all__ = ["UserInputError", "DatasetError", "ModelFileError"]


class DatasetError(UserInputError):
    """A dataset folder that does not follow the documented layout (one-line message)."""


class ModelFileError(UserInputError):
    """A model bundle that is missing, modified, truncated or for another architecture."""
