"""Units of work as tasks on a Ray cluster: ``python -m builder build --executor ray`` (the ``ray`` extra:
``pip install -e '.[ray]'``).

Without ``--ray-address`` the build starts a single-node Ray cluster on this machine with ``--workers`` CPUs,
and stops it when the build ends. With ``--ray-address`` it joins a cluster that is already running, and
leaves it running.

On several machines:

1. Install the same checkout and the same packages (``pip install -e '.[build,ray]'``) on every node, with
   the same Python: Ray ships the builder's code to the workers, not its dependencies.
2. On the head node: ``ray start --head`` (it prints the address, ``HEAD:6379``).
3. On every other node: ``ray start --address=HEAD:6379``.
4. On the head node: ``python -m builder build --executor ray --ray-address auto --workers N --seeds ...
   --out ...``, where ``N`` is about the number of CPUs of the whole cluster (at most ``2 * N`` units are in
   flight at once). From a machine outside the cluster use its Ray Client address instead,
   ``--ray-address ray://HEAD:10001``.
5. ``ray stop`` on every node when done.

The input folder must be readable at the same absolute path on every node (a shared or copied folder): tasks
read their inputs where they run. Their results come back to the driver through Ray's object store, and only
the driver writes, so the output folder need only exist on the driver's machine.

The code reaches the workers as the job's ``working_dir``: the folders and files of this checkout that the
builder reads (``SHIPPED``: its package, the JSON Schemas, ``pyproject.toml`` for the version, the card
template), zipped and uploaded once per build, for a local cluster as for a remote one, so every worker runs
exactly the driver's code whatever is installed on its node. Tasks run in the driver's current directory
where their node has it (else in that unpacked copy), so relative input paths work on a single machine; name
inputs by absolute paths on a cluster.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from .errors import UsageError
from .executors import IN_FLIGHT

ROOT = Path(__file__).resolve().parent.parent  # the checkout: ``builder`` is run from it (python -m builder)
SHIPPED = ("builder", "schema", "pyproject.toml", "dataset_card.md")  # what the builder's code reads from it


def runtime_env(root: Path = ROOT) -> dict:
    """The job's runtime environment: ``root`` as the working directory, less everything not in ``SHIPPED``
    (inputs, outputs, tests and virtual environments stay behind) and Python's caches."""
    excludes = sorted(f"/{p.name}" for p in root.iterdir() if p.name not in SHIPPED)
    return {"working_dir": str(root), "excludes": [*excludes, "__pycache__/", "*.pyc"]}


def _call(fn: Callable[[Any], bytes], payload: Any, cwd: str) -> bytes:
    """The one remote function: ``fn`` travels as an argument (put in the object store once per ``map``).
    It runs in the driver's current directory where the node has it, as in a local process pool, so that
    relative input paths mean there what they mean on the driver (Ray would leave it in the code's copy)."""
    if os.getcwd() != cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    return fn(payload)


class RayExecutor:
    """Units as Ray tasks of one CPU each, ``IN_FLIGHT * workers`` of them submitted at a time."""

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        self.workers = max(1, workers)
        self.in_process = False
        self.address = address or None
        self._ray: Any = None
        self._started = False  # whether this executor started Ray (and so stops it)

    def _connect(self) -> Any:
        if self._ray is not None:
            return self._ray
        try:
            import ray
        except ImportError as e:
            raise UsageError("--executor ray needs Ray, which is not installed: install the ray extra: "
                             "pip install -e '.[ray]'") from e
        if not ray.is_initialized():  # else someone (a notebook, a test) connected already: use theirs as it is
            # workers' output stays in Ray's session logs; their exceptions still reach the build
            quiet = {"log_to_driver": False, "ignore_reinit_error": True, "runtime_env": runtime_env()}
            try:
                if self.address:
                    ray.init(address=self.address, logging_level=logging.WARNING, **quiet)
                else:
                    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a cluster of our own reports nothing
                    # "local": a new cluster of our own, never one found through RAY_ADDRESS or /tmp/ray
                    ray.init(address="local", num_cpus=self.workers, include_dashboard=False,
                             logging_level=logging.ERROR, **quiet)
            except ConnectionError as e:
                raise UsageError(f"--ray-address {self.address}: no Ray cluster there ({e}); start one with "
                                 "`ray start --head`, or leave --ray-address out to run one on this machine") from e
            self._started = True
        self._ray = ray
        return ray

    def map(self, fn: Callable[[Any], bytes], payloads: Iterable[Any]) -> Iterator[tuple[int, bytes]]:
        items = iter(enumerate(payloads))
        first = next(items, None)
        if first is None:
            return
        ray = self._connect()
        call = ray.remote(_call)
        fn_ref, cwd = ray.put(fn), os.getcwd()
        pending: dict[Any, int] = {}  # ObjectRef -> index of its payload
        items = chain([first], items)
        # On an error, or when the caller stops early, the tasks in flight (at most IN_FLIGHT per worker) are
        # left to finish and their results dropped; close() stops a cluster this executor started. They are
        # not cancelled: ray.cancel races with the scheduler (ray-project/ray#30760, #45469: a queued task's
        # cancel can kill its worker or the raylet, and with the raylet the driver exits).
        while True:
            while len(pending) < IN_FLIGHT * self.workers:
                nxt = next(items, None)
                if nxt is None:
                    break
                pending[call.remote(fn_ref, nxt[1], cwd)] = nxt[0]
            if not pending:
                return
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ready)
            try:
                result = ray.get(ready)
            except ray.exceptions.RayTaskError as e:
                # the function's own exception, as LocalExecutor raises it, with Ray's report as its cause
                if isinstance(e.cause, Exception):
                    raise e.cause from e
                raise
            del ready
            yield index, result

    def close(self) -> None:
        if self._started and self._ray is not None:
            self._ray.shutdown()
        self._ray, self._started = None, False
