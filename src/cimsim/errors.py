"""The errors a user can cause, in one place.

Every one is a :class:`CimsimError`: the command line prints it as one line
(``cimsim: error: ...``) and exits with status 2, never with a traceback. Anything else
that escapes is a bug.
"""

from __future__ import annotations


class CimsimError(Exception):
    """A mistake the user can fix, with a one-line message."""


class ScenarioError(CimsimError, ValueError):
    """A mistake in a scenario, an override or a parameter path."""


class UserError(CimsimError):
    """A mistake in a command's options (conflicting flags, a malformed --grid or --param)."""


class RunError(CimsimError):
    """A mistake in a design or an output folder, or an executor that cannot go on."""


class TooBig(CimsimError):
    """A run or design that would not fit in this machine's memory."""


class MissingPart(CimsimError):
    """An optional part of cimsim (an extra) is not installed."""


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingPart` in one line when ``module`` (from the ``extra``) is absent.

    >>> require("numpy", "analysis", "this")  # present: nothing happens
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingPart(
            f"{what} needs the optional part '{extra}' ({module} is not installed): "
            f"pip install 'cimsim[{extra}]'"
        )
