"""Where the tasks run: joblib with processes on this machine (loky), or a Dask cluster.

Dask is the cluster engine (``pip install 'lester[dask]'``): ``distributed`` is pure Python,
ships joblib's ``"dask"`` backend itself, starts a local cluster in-process in a second (what
the tests use), and reaches an existing scheduler by its address; Ray would bring a large
native runtime and its own object store for the same joblib calls. ``--address`` names a
running scheduler (``tcp://host:8786``); without it a :class:`distributed.LocalCluster` is
started for the tournament and stopped after it. A worker must be able to read the pipeline
file at the same path (a shared file system), since it imports it to unpickle custom steps.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from lester.errors import LesterError

BACKENDS = ("loky", "dask")


class BackendError(LesterError, RuntimeError):
    """The requested backend is unknown or its package is not installed."""


@contextlib.contextmanager
def backend(name: str = "loky", address: str | None = None, n_jobs: int = -1) -> Iterator[Callable[..., Iterable[Any]]]:
    """A context in which ``run(tasks)`` runs ``joblib.delayed`` tasks and yields each result
    as it completes (in completion order), on the named backend.

    >>> from joblib import delayed
    >>> with backend("loky", n_jobs=1) as run:
    ...     sorted(run([delayed(abs)(-2), delayed(abs)(-1)]))
    [1, 2]
    """
    from joblib import Parallel, parallel_config

    if name == "ray":
        raise BackendError("backend 'ray' is not supported: lester's cluster engine is Dask "
                           "(--backend dask, pip install 'lester[dask]')")
    if name not in BACKENDS:
        raise BackendError(f"backend {name!r}: expected one of {', '.join(BACKENDS)}")
    if address is not None and name != "dask":
        raise BackendError("--address names a Dask scheduler: use it with --backend dask")
    if name == "loky":
        def run(tasks: Iterable[Any]) -> Iterable[Any]:
            return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)

        yield run
        return
    with _dask_client(address, n_jobs) as client:
        def run(tasks: Iterable[Any]) -> Iterable[Any]:
            with parallel_config(backend="dask", wait_for_workers_timeout=60):
                yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks)

        run.client = client  # type: ignore[attr-defined]
        yield run


@contextlib.contextmanager
def _dask_client(address: str | None, n_jobs: int) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BackendError("backend 'dask' needs the distributed package: pip install 'lester[dask]'") from None
    if address is not None:
        try:
            client = Client(address, timeout="5s")
        except OSError as error:
            raise BackendError(f"--address {address}: no Dask scheduler answered ({error})") from None
        with client:
            yield client
        return
    workers = os.cpu_count() or 1 if n_jobs in (-1, None) else max(1, n_jobs)
    # processes: estimators hold the GIL; no dashboard: nothing listens beyond the scheduler
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client
