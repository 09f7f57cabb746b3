"""Where and how runs execute: one options object for every command that runs a design.

``ExecutionOptions`` holds the executor (``serial``, ``processes`` or a ``dask:`` target),
the number of local workers and the runs per task. Commands add its options to their
parser with :meth:`ExecutionOptions.add_arguments` and read them back with
:meth:`ExecutionOptions.from_args`; :meth:`ExecutionOptions.kwargs` passes them on to
:func:`cimsim.runs.run_design` and :func:`cimsim.sensitivity.run_sensitivity`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from cimsim.errors import UserError

DASK_TARGETS = ("local", "tcp://", "tls://")
"""What may follow ``--dask``: ``local``, ``local:N``, ``tcp://HOST:PORT``, ``tls://HOST:PORT``."""


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


@dataclass(frozen=True)
class ExecutionOptions:
    """The executor, local workers and batch size of a design's runs.

    Attributes:
        executor: ``"serial"``, ``"processes"`` or ``"dask:local[:N]"`` /
            ``"dask:tcp://HOST:PORT"`` / ``"dask:tls://HOST:PORT"``.
        workers: local processes (``None``: all cores).
        batch_size: runs per task (``None``: about four tasks per worker).
    """

    executor: str = "processes"
    workers: int | None = None
    batch_size: int | None = None

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Add ``--workers``, ``--serial``, ``--dask`` and ``--batch-size`` to ``parser``."""
        parser.add_argument(
            "--workers", type=positive_int, default=None, help="local processes (default: all)"
        )
        parser.add_argument("--serial", action="store_true", help="run in this process")
        parser.add_argument(
            "--dask",
            default=None,
            metavar="local[:N]|tcp://HOST:PORT|tls://HOST:PORT",
            help="run on Dask: a local cluster or a scheduler's address",
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=None,
            help="runs per task (default: about four tasks per worker)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ExecutionOptions:
        """The options chosen on a command line (one-line errors for conflicts)."""
        serial = bool(getattr(args, "serial", False))
        dask = getattr(args, "dask", None)
        workers = getattr(args, "workers", None)
        batch_size = getattr(args, "batch_size", None)
        if serial and dask:
            raise UserError("--serial and --dask exclude each other")
        if dask:
            target = dask.removeprefix("dask:")
            if not target.startswith(DASK_TARGETS):
                raise UserError(
                    f"--dask {dask}: expected local, local:N, tcp://HOST:PORT or tls://HOST:PORT"
                )
            return cls(f"dask:{target}", workers, batch_size)
        if serial:
            return cls("serial", None, batch_size)
        return cls("processes", workers, batch_size)

    def kwargs(self) -> dict[str, Any]:
        """``executor``, ``workers`` and ``batch_size`` as keyword arguments."""
        return {"executor": self.executor, "workers": self.workers, "batch_size": self.batch_size}
