"""Executors for the run engine, all behind one ``concurrent.futures.Executor`` interface.

``"serial"`` runs each task in this process, ``"processes"`` uses a local process pool
(forkserver context, safe with threads; workers exit when the command that started them
dies), ``"dask:local[:N]"`` starts a Dask LocalCluster and ``"dask:tcp://HOST:PORT"`` (or
``tls://`` with the certificates of Dask's ``distributed.comm.tls`` configuration) joins a
running scheduler, waiting up to ``CIMSIM_DASK_WAIT`` seconds for a worker. Any
``Executor`` instance (or a Dask ``Client``) is accepted as is and never shut down by the
engine.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cimsim.errors import RunError, UserError, require


class SerialExecutor(Executor):
    """A tiny in-process executor: ``submit`` runs the call at once."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now and return a finished future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt | SystemExit):
                raise
            future.set_exception(err)
        return future


@dataclass
class ExecutorHandle:
    """An executor, how many tasks it runs at once, and how to release it."""

    executor: Executor
    workers: int
    label: str
    closers: list[Callable[[], None]] = field(default_factory=list)
    aborters: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Shut down whatever this handle started (nothing for a borrowed executor)."""
        for close in self.closers:
            try:
                close()
            except Exception:
                pass
        self.closers = []

    def abort(self) -> None:
        """Stop at once (an interruption): kill local workers, then shut down."""
        for abort in self.aborters:
            try:
                abort()
            except Exception:
                pass
        self.aborters = []
        self.close()


PARENT_POLL = 1.0
"""Seconds between a worker's checks that the command that started it is still alive."""


def _start_worker(parent: int, single_threaded: bool) -> None:
    """Worker initializer: exit as soon as process ``parent`` is gone (SIGKILL included),
    so no worker outlives the command that started it; where the pool has several workers,
    keep each worker's runs on one thread (:func:`cimsim.kernels.single_threaded`: the
    workers already share the cores)."""
    if single_threaded:
        from cimsim import kernels

        kernels.single_threaded()

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL)
            try:
                os.kill(parent, 0)
            except (ProcessLookupError, PermissionError):  # gone, or its pid reused
                os._exit(1)

    threading.Thread(target=watch, name="cimsim-parent-watch", daemon=True).start()


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _process_pool(workers: int | None) -> ExecutorHandle:
    n = workers or _cpu_count()
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    forked = getattr(main, "__spec__", None) is None and main_file and not os.path.exists(main_file)
    if forked:
        # code read from stdin cannot be re-imported by fresh workers: fork instead (and
        # keep them off numba's threads, whose OpenMP pool may not survive a fork)
        ctx: Any = multiprocessing.get_context("fork")
    else:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["cimsim.runs.engine", "cimsim.runs.preload"])
    pool = ProcessPoolExecutor(
        max_workers=n,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(os.getpid(), bool(forked) or n > 1),
    )

    def close() -> None:
        pool.shutdown(wait=True, cancel_futures=True)

    def kill() -> None:
        for proc in list((pool._processes or {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    return ExecutorHandle(pool, n, f"processes ({n})", [close], [kill])


def _dask_handle(client: Any, owned: list[Callable[[], None]], label: str) -> ExecutorHandle:
    executor = client.get_executor(pure=False)
    n = max(1, sum(client.nthreads().values()))
    return ExecutorHandle(executor, n, label, owned)


DASK_WAIT = 60.0
"""Seconds to wait for a remote scheduler to have at least one worker (CIMSIM_DASK_WAIT)."""


def _quiet_dask_logs() -> None:
    """Silence Dask's and asyncio's logs for the rest of the process. Dask's loggers
    (``distributed.client``, ``distributed.comm`` ...) set their own levels and print
    through the handlers of ``distributed``, so those handlers are raised as well."""
    for name in ("distributed", "asyncio", "tornado"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL)
        for handler in logger.handlers:
            handler.setLevel(logging.CRITICAL)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("distributed.", "tornado.")):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _dask(target: str, workers: int | None) -> ExecutorHandle:
    require("distributed", "dask", "--dask")
    from distributed import Client, LocalCluster

    if target == "local" or target.startswith("local:"):
        n = workers or _cpu_count()
        if target.startswith("local:"):
            text = target.split(":", 1)[1]
            if not text.isdigit() or int(text) < 1:
                raise UserError(f"executor dask:{target}: expected local:N with N >= 1")
            n = int(text)
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            preload=["cimsim.runs.preload"],
        )
        client = Client(cluster)
        return _dask_handle(client, [client.close, cluster.close], f"dask local ({n})")
    if target.startswith(("tcp://", "tls://")):
        host = target.split("://", 1)[1]
        if not host or host.startswith(":"):
            raise UserError(f"executor dask:{target}: expected {target[:6]}HOST:PORT")
        # a lost scheduler is reported by the engine in one line; Dask's own log of its
        # reconnection attempts, and asyncio's report of the tasks the lost connection
        # left unfinished (a traceback, logged whenever they are collected), would only
        # repeat it: both are quiet for the rest of this process
        _quiet_dask_logs()
        if target.startswith("tls://"):
            _check_tls(target)
        try:
            client = Client(target, timeout="10s")
        except (OSError, TimeoutError, ValueError, TypeError) as err:
            raise RunError(f"executor dask:{target}: cannot connect ({err})") from None
        wait = float(os.environ.get("CIMSIM_DASK_WAIT", DASK_WAIT))
        try:
            client.wait_for_workers(1, timeout=wait)
        except (TimeoutError, OSError):
            client.close()
            raise RunError(
                f"executor dask:{target}: no worker joined the scheduler within {wait:g} s "
                "(start workers, or set CIMSIM_DASK_WAIT to wait longer)"
            ) from None
        return _dask_handle(client, [client.close], f"dask {target}")
    raise UserError(
        f"executor dask:{target}: expected dask:local, dask:local:N, dask:tcp://HOST:PORT "
        "or dask:tls://HOST:PORT"
    )


TLS_SETTINGS = {
    "tls_ca_file": "DASK_DISTRIBUTED__COMM__TLS__CA_FILE",
    "tls_client_cert": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT",
    "tls_client_key": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY",
}
"""Dask's client TLS settings and the environment variables (or Dask config) that set them."""


def _check_tls(target: str) -> None:
    """Refuse a ``tls://`` target in one line when the client has no certificates."""
    from distributed.security import Security

    security = Security()  # reads distributed.comm.tls.* from Dask's configuration
    unset = [env for attr, env in TLS_SETTINGS.items() if not getattr(security, attr, None)]
    if "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY" in unset and security.tls_client_cert:
        unset.remove("DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY")  # key inside the cert file
    if unset:
        raise UserError(
            f"executor dask:{target}: TLS needs certificates; set {', '.join(unset)} "
            "(or distributed.comm.tls in Dask's configuration)"
        )
    for attr in TLS_SETTINGS:
        path = getattr(security, attr, None)
        if path and not Path(path).is_file():
            raise UserError(f"executor dask:{target}: {attr} {path}: no such file")


UNGUARDED_SCRIPT = (
    "worker processes import the script that starts the runs: put that code under "
    '`if __name__ == "__main__":`, or use executor="serial"'
)
"""The one line for a script that starts processes at import time."""


def _refuse_in_a_bootstrapping_worker() -> None:
    """A worker that imports the user's script as ``__main__`` must not start processes of
    its own (Python would raise a long RuntimeError): say what to do and leave at once."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        print(f"cimsim: error: {UNGUARDED_SCRIPT}", file=sys.stderr, flush=True)
        os._exit(2)


def open_executor(spec: Any = "processes", workers: int | None = None) -> ExecutorHandle:
    """Resolve an executor spec: a name, a ``dask:`` target, an Executor or a Dask Client."""
    if isinstance(spec, Executor):
        n = getattr(spec, "_max_workers", None)
        client = getattr(spec, "_client", None)
        if n is None and client is not None:
            n = sum(client.nthreads().values())
        return ExecutorHandle(spec, max(1, int(n or workers or 1)), type(spec).__name__)
    if hasattr(spec, "get_executor") and hasattr(spec, "nthreads"):
        return _dask_handle(spec, [], "dask client")
    if not isinstance(spec, str):
        raise UserError(f"executor {spec!r}: expected serial, processes, dask:... or an Executor")
    if workers is not None and workers < 1:
        raise UserError(f"workers {workers}: expected a number >= 1")
    if spec == "serial":
        return ExecutorHandle(SerialExecutor(), 1, "serial")
    if spec == "processes":
        _refuse_in_a_bootstrapping_worker()
        return _process_pool(workers)
    if spec.startswith("dask:"):
        return _dask(spec[len("dask:") :], workers)
    raise UserError(
        f"executor '{spec}': expected serial, processes, dask:local[:N] or dask:tcp://HOST:PORT"
    )
