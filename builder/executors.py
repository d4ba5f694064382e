"""Where the heavy work runs. A unit of work is a shard of the corpus (a list of input files, or a batch of
candidate pairs); its result is the bytes of one work file (records packed by ``builder.workfile``: private
to the build, never shipped). ``run_units`` writes each result to ``<workdir>/<unit>.part`` and then a
completion marker ``<unit>.done``, so an interrupted build resumes where it stopped: a unit whose marker
matches its fingerprint and whose file matches the marker's sha256 is not run again.

An executor maps a picklable function over payloads and yields ``(index, result)`` as units finish, with at
most a few units in flight per worker (memory stays bounded however many units there are). It takes the
payloads as it submits them, so they may come from a generator that is still making them (the screen's
units, while blocking goes on in the driver). Two executors:

- ``LocalExecutor``: this process (1 worker) or a pool of ``workers`` processes. Never imports Ray.
- ``RayExecutor``: tasks on a Ray cluster (``builder.ray_executor``, the ``ray`` extra), local or remote.

Results are written in unit order of their names, and merged in that order, so the output bytes never depend
on the executor, the number of workers or the order in which units finish.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, Protocol

from .files import sha256_file, write_atomic

IN_FLIGHT = 2  # units submitted per worker ahead of the results read back


_LIMITED = 0  # ``one_blas_thread`` blocks open in this process; a process forked within one inherits the count


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Keep the BLAS library to one thread within the block: the workers are the parallelism. OpenBLAS would
    otherwise start a thread per core in every process, and on the small products of the screen and of
    blocking those threads spin while they wait: with 2 workers on 1000 pages the screen units took 5.4 s
    instead of 0.36. Within a block already open (in this process, or in the one it was forked from, whose
    BLAS setting it inherits) it does nothing: setting the limit looks up the loaded libraries, 1-2 ms a unit.
    ``unit`` sets it in other processes (spawned, Ray)."""
    global _LIMITED
    if _LIMITED:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl is a build dependency; without it the BLAS keeps its own threads
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        _LIMITED += 1
        try:
            yield
        finally:
            _LIMITED -= 1


def unit(fn: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """``fn``, a unit of work, run with one BLAS thread (``one_blas_thread``) in whatever process it runs."""
    @functools.wraps(fn)
    def run(payload: Any) -> bytes:
        with one_blas_thread():
            return fn(payload)
    return run


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Executor(Protocol):
    workers: int
    in_process: bool  # whether the units run in this very process (then nothing else can run beside them)

    def map(self, fn: Callable[[Any], bytes], payloads: Iterable[Any]) -> Iterator[tuple[int, bytes]]:
        """``fn(payload)`` for every payload, yielded as ``(index, result)`` in any order; ``payloads`` is read
        as units are submitted."""

    def close(self) -> None: ...


class LocalExecutor:
    """Processes on this machine: in this one when ``workers`` is 1, else a pool of ``workers``."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self.in_process = self.workers == 1
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], bytes], payloads: Iterable[Any]) -> Iterator[tuple[int, bytes]]:
        items = iter(enumerate(payloads))
        first = [] if self.workers == 1 else list(islice(items, 2))
        if self.workers == 1 or len(first) < 2:  # one unit alone is not worth starting the pool for
            for i, payload in chain(first, items):  # each taken when the one before is done
                yield i, fn(payload)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        pending: dict[Future, int] = {}
        items = chain(first, items)
        while True:
            while len(pending) < IN_FLIGHT * self.workers:
                nxt = next(items, None)
                if nxt is None:
                    break
                pending[self._pool.submit(fn, nxt[1])] = nxt[0]
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=pending.__getitem__):
                yield pending.pop(future), future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _run_niced(send: Any, fn: Callable[[], Any]) -> None:
    if hasattr(os, "nice"):
        os.nice(19)  # the lowest priority: only the cores the others leave idle
    try:
        outcome = (True, fn())
    except BaseException as err:  # handed to the caller, who raises it
        outcome = (False, err)
    try:
        send.send(outcome)
    except Exception as err:  # a result or an error that does not pickle
        send.send((False, RuntimeError(f"the background process could not hand back its outcome: {err!r}")))
    send.close()


class Background:
    """``fn()`` in a process of its own at the lowest priority, so that it runs only on the cores that the
    driver and the workers leave idle and never slows them down. ``fn`` must pickle where processes are
    spawned. If the caller is killed, it runs to its end and then finds no one to hand its result to."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        context = multiprocessing.get_context()
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run_niced, args=(send, fn), daemon=True)
        self._process.start()
        send.close()  # the child's end: EOF here when the child dies without a word

    def result(self) -> Any:
        """Wait for ``fn``'s result; raise what it raised."""
        try:
            ok, value = self._receive.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(f"the background process died (exit code {self._process.exitcode})") from None
        self._process.join()
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        """Stop it, finished or not."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receive.close()


def make_executor(name: str = "local", workers: int = 1, address: str | None = None) -> Executor:
    """The executor called ``name`` ("local" or "ray"); Ray is imported only when asked for."""
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(workers, address)
    raise ValueError(f"unknown executor {name!r}: use 'local' or 'ray'")


@dataclass(frozen=True)
class Unit:
    """One shard of work: its file name stem, what determines its result, and what the function needs."""

    name: str
    fingerprint: str
    payload: Any


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _done(workdir: Path, unit: Unit) -> bool:
    marker, data = workdir / f"{unit.name}.done", workdir / f"{unit.name}.part"
    try:
        mark = json.loads(marker.read_bytes())
    except (OSError, ValueError):
        return False
    if mark.get("fingerprint") != unit.fingerprint or not data.is_file() or data.stat().st_size != mark.get("bytes"):
        return False
    return sha256_file(data) == mark.get("sha256")


def run_units(executor: Executor, fn: Callable[[Any], bytes], units: Iterable[Unit], workdir: Path,
              progress: Callable[[int], None] | None = None,
              finished: Callable[[Path], None] | None = None) -> tuple[list[Path], int]:
    """Run every unit not already done; return the result files in unit order, and how many units ran
    (the others were resumed from an earlier, interrupted run). ``units`` is read as the executor submits
    them. ``progress(n)`` is told of every unit finished or resumed, and ``finished(path)`` is given its result
    file, in the order they finish (the caller can read them while the other units run)."""
    workdir.mkdir(parents=True, exist_ok=True)
    every: list[Unit] = []
    todo: list[Unit] = []

    def report(unit: Unit) -> None:  # a unit found done, or just finished
        if progress:
            progress(1)
        if finished:
            finished(workdir / f"{unit.name}.part")

    def payloads() -> Iterator[Any]:
        for unit in units:
            every.append(unit)
            if _done(workdir, unit):
                report(unit)
            else:
                todo.append(unit)
                yield unit.payload

    # work files are not synced to disk (1-2 ms a file here, far more on NFS): a file that a crash of the
    # machine leaves torn or empty fails its marker's check (size, sha256, fingerprint), and its unit runs again
    for i, result in executor.map(fn, payloads()):
        unit = todo[i]
        write_atomic(workdir / f"{unit.name}.part", result, sync=False)
        mark = {"fingerprint": unit.fingerprint, "bytes": len(result),
                "sha256": hashlib.sha256(result).hexdigest()}
        write_atomic(workdir / f"{unit.name}.done", json.dumps(mark).encode(), sync=False)
        report(unit)
    return [workdir / f"{u.name}.part" for u in every], len(todo)
