"""Executors (``builder/executors.py``, ``builder/ray_executor.py``): resume of ``run_units``, the in-flight
window, Ray never imported unless asked for, and the same bytes whatever runs the units.

The Ray tests share one local cluster (started by the first ``RayExecutor``, about 8 s) and are skipped only
where Ray is not installed; CI installs the ``ray`` extra, so there they run."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from builder.errors import UsageError
from builder.executors import (
    IN_FLIGHT,
    Background,
    LocalExecutor,
    Unit,
    fingerprint,
    make_executor,
    run_units,
    unit,
)

ROOT = Path(__file__).resolve().parent.parent

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed: pip install -e '.[ray]' (CI installs it)")

COMPRESS = functools.partial(zlib.compress, level=1)  # deterministic, picklable by reference, no builder code


def payloads(n: int) -> list[bytes]:
    return [f"unit {i} ".encode() * (50 + 37 * i) for i in range(n)]


def units(n: int, salt: str = "") -> list[Unit]:
    return [Unit(f"part-{i:03d}", fingerprint("compress", i, salt), p) for i, p in enumerate(payloads(n))]


class Recorder:
    """``COMPRESS`` that remembers what it was called with (for executors that run in this process)."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def __call__(self, payload: bytes) -> bytes:
        self.calls.append(payload)
        return COMPRESS(payload)


class Reversed:
    """An executor that finishes units in the reverse of their order."""

    workers = 1

    def map(self, fn, items: Iterable) -> Iterator[tuple[int, bytes]]:
        items = list(items)
        for i in reversed(range(len(items))):
            yield i, fn(items[i])

    def close(self) -> None:
        pass


class Counted(Sequence):
    """Payloads that count how many of them an executor has taken (submitted) so far."""

    def __init__(self, items: list) -> None:
        self.items, self.taken = items, 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def __iter__(self):
        for item in self.items:
            self.taken += 1
            yield item


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- run_units: resume ---------------------------------------------------------------------------------------

def test_units_run_once_then_resume(tmp_path):
    work = units(5)
    fn = Recorder()
    paths, ran = run_units(LocalExecutor(1), fn, work, tmp_path)
    assert ran == 5 and fn.calls == [u.payload for u in work]
    assert [p.read_bytes() for p in paths] == [COMPRESS(u.payload) for u in work]
    again = Recorder()
    assert run_units(LocalExecutor(1), again, work, tmp_path) == (paths, 0)
    assert again.calls == []


def _truncate(work: Path, name: str) -> None:
    path = work / f"{name}.part"
    path.write_bytes(path.read_bytes()[:-3])


def _flip_byte(work: Path, name: str) -> None:  # same size, other content: only the sha256 tells
    path = work / f"{name}.part"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_marker(**changes):
    def edit(work: Path, name: str) -> None:
        path = work / f"{name}.done"
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return edit


DAMAGE = [
    pytest.param(_truncate, id="arrow truncated"),
    pytest.param(_flip_byte, id="arrow corrupted, same size"),
    pytest.param(lambda w, n: (w / f"{n}.part").unlink(), id="arrow missing"),
    pytest.param(lambda w, n: (w / f"{n}.part").write_bytes(b""), id="arrow empty"),
    pytest.param(lambda w, n: (w / f"{n}.done").unlink(), id="marker missing"),
    pytest.param(lambda w, n: (w / f"{n}.done").write_bytes(b'{"fingerprint": "ab'), id="marker garbled"),
    pytest.param(lambda w, n: (w / f"{n}.done").write_bytes(b"\xff\xfe\x00"), id="marker not text"),
    pytest.param(lambda w, n: (w / f"{n}.done").write_text("{}"), id="marker empty object"),
    pytest.param(_edit_marker(sha256="0" * 64), id="marker wrong sha256"),
    pytest.param(_edit_marker(bytes=1), id="marker wrong size"),
    pytest.param(_edit_marker(fingerprint="f" * 64), id="marker other fingerprint"),
]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_unit_reruns_alone(tmp_path, damage):
    work = units(4)
    paths, _ = run_units(LocalExecutor(1), COMPRESS, work, tmp_path)
    before = files(tmp_path)
    damage(tmp_path, work[2].name)
    fn = Recorder()
    finished: list[tuple[str, bytes]] = []  # each result file as it is handed over, read at that moment
    assert run_units(LocalExecutor(1), fn, work, tmp_path,
                     finished=lambda path: finished.append((path.name, path.read_bytes()))) == (paths, 1)
    assert fn.calls == [work[2].payload]
    assert files(tmp_path) == before
    assert sorted(finished) == sorted((p.name, before[p.name]) for p in paths)  # resumed and rerun, whole


def test_a_changed_fingerprint_reruns_that_unit_only(tmp_path):
    work = units(4)
    run_units(LocalExecutor(1), COMPRESS, work, tmp_path)
    changed = [*work[:1], Unit(work[1].name, fingerprint("compress", 1, "new options"), work[1].payload), *work[2:]]
    fn = Recorder()
    assert run_units(LocalExecutor(1), fn, changed, tmp_path)[1] == 1
    assert fn.calls == [work[1].payload]
    marker = json.loads((tmp_path / f"{work[1].name}.done").read_text())
    assert marker["fingerprint"] == changed[1].fingerprint
    assert run_units(LocalExecutor(1), fn, changed, tmp_path)[1] == 0


def test_results_come_back_in_unit_order_whatever_finishes_first(tmp_path):
    work = units(6)
    done: list[int] = []
    paths, ran = run_units(Reversed(), COMPRESS, work, tmp_path, progress=done.append)
    assert ran == 6 and sum(done) == 6
    assert paths == [tmp_path / f"{u.name}.part" for u in work]
    assert [p.read_bytes() for p in paths] == [COMPRESS(u.payload) for u in work]
    marker = json.loads((tmp_path / f"{work[0].name}.done").read_text())
    assert marker == {"fingerprint": work[0].fingerprint, "bytes": paths[0].stat().st_size,
                      "sha256": hashlib.sha256(paths[0].read_bytes()).hexdigest()}


def test_resume_is_reported_to_progress(tmp_path):
    work = units(5)
    run_units(LocalExecutor(1), COMPRESS, work[:3], tmp_path)
    done: list[int] = []
    assert run_units(LocalExecutor(1), COMPRESS, work, tmp_path, progress=done.append)[1] == 2
    assert done == [1] * 5  # each unit as it is found done or finishes


# --- LocalExecutor ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [pytest.param(1, id="in this process"), pytest.param(2, id="2 processes")])
def test_local_workers_give_the_same_results(workers):
    items = payloads(9)
    executor = LocalExecutor(workers)
    try:
        got = list(executor.map(COMPRESS, items))
    finally:
        executor.close()
    assert sorted(i for i, _ in got) == list(range(9))
    assert dict(got) == {i: COMPRESS(p) for i, p in enumerate(items)}


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@unit
def _blas_threads_in_a_unit(_: object) -> bytes:
    return json.dumps(_blas_threads()).encode()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the BLAS has one thread anyway")
@pytest.mark.parametrize("workers", [pytest.param(1, id="in this process"), pytest.param(2, id="2 processes")])
def test_units_run_with_one_blas_thread_and_leave_the_callers_as_it_was(workers):
    """OpenBLAS starts a thread per core in every process, and on small products they spin: the workers are
    the parallelism. The caller's own BLAS is left as it was."""
    import numpy as np

    np.ones((2, 2)) @ np.ones((2, 2))  # the BLAS loaded
    before = _blas_threads()
    executor = LocalExecutor(workers)
    try:
        got = [json.loads(result) for _, result in executor.map(_blas_threads_in_a_unit, range(4))]
    finally:
        executor.close()
    assert before and max(before) > 1
    assert got == [[1] * len(before)] * 4
    assert _blas_threads() == before


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the BLAS has one thread anyway")
@pytest.mark.parametrize("workers", [pytest.param(1, id="in this process"), pytest.param(2, id="2 processes")])
def test_within_one_blas_thread_units_keep_it_and_it_ends_with_the_outer_block(workers):
    """As a build runs its units: within the block (the workers forked there inherit the limit), and a block
    opened within it (a unit's) leaves the limit on when it ends."""
    import numpy as np

    from builder.executors import one_blas_thread

    np.ones((2, 2)) @ np.ones((2, 2))  # the BLAS loaded
    before = _blas_threads()
    with one_blas_thread():
        executor = LocalExecutor(workers)
        try:
            got = [json.loads(result) for _, result in executor.map(_blas_threads_in_a_unit, range(4))]
        finally:
            executor.close()
        after_units = _blas_threads()
    assert before and max(before) > 1
    assert got == [[1] * len(before)] * 4
    assert after_units == [1] * len(before)
    assert _blas_threads() == before


def test_one_blas_thread_looks_up_the_libraries_once_per_outer_block(monkeypatch):
    import threadpoolctl

    from builder.executors import one_blas_thread

    calls = []
    real = threadpoolctl.threadpool_limits
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda **kw: calls.append(kw) or real(**kw))
    with one_blas_thread():
        for k in range(3):
            _blas_threads_in_a_unit(k)
    _blas_threads_in_a_unit(3)  # outside: a block of its own
    assert calls == [{"limits": 1, "user_api": "blas"}] * 2


def _assert_window(executor, fn, n: int, window: int) -> None:
    """Whenever a result comes back, at most ``window`` payloads were taken and not yet returned, and the
    executor did keep that many in flight (it runs units side by side)."""
    items = Counted(list(range(n)))
    most, got = 0, []
    for index, result in executor.map(fn, items):
        got.append(index)
        in_flight = items.taken - (len(got) - 1)  # the one just returned was still in flight until now
        assert in_flight <= window, f"{in_flight} units in flight, window {window}"
        most = max(most, in_flight)
        assert result == fn(items[index])
    assert sorted(got) == list(range(n)) and items.taken == n
    assert most == window


@pytest.mark.parametrize(("workers", "window"), [
    pytest.param(1, 1, id="1 worker: one at a time"),
    pytest.param(2, 2 * IN_FLIGHT, id="2 workers: IN_FLIGHT each"),
])
def test_local_window_bounds_submissions(workers, window):
    executor = LocalExecutor(workers)
    try:
        _assert_window(executor, str, 200, window)
    finally:
        executor.close()


def test_local_executor_does_not_import_ray():
    code = ("import builder.executors as e, sys; list(e.LocalExecutor(2).map(str, [1,2,3])); "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def _niceness_and_pid() -> tuple[int, int]:
    return os.nice(0), os.getpid()


def _raises_usage_error() -> None:
    raise UsageError("bad --out")


def _exits() -> None:
    os._exit(3)


def _unpicklable() -> object:
    return lambda: None


@pytest.mark.parametrize(("fn", "error", "match"), [
    pytest.param(_raises_usage_error, UsageError, "bad --out", id="its own error, raised in the caller"),
    pytest.param(_exits, RuntimeError, "died \\(exit code 3\\)", id="a process that dies without a word"),
    pytest.param(_unpicklable, RuntimeError, "could not hand back", id="a result that does not pickle"),
])
def test_background_hands_back_failures(fn, error, match):
    with pytest.raises(error, match=match):
        Background(fn).result()


def test_background_runs_in_another_process_at_the_lowest_priority():
    niceness, pid = Background(_niceness_and_pid).result()
    assert pid != os.getpid()
    assert niceness == 19


def test_background_cancel_stops_the_process():
    import multiprocessing

    job = Background(functools.partial(time_sleep, 60))
    job.cancel()
    assert multiprocessing.active_children() == []


def time_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_unknown_executor():
    with pytest.raises(ValueError, match="unknown executor 'spark'"):
        make_executor("spark")


def test_ray_executor_without_ray_says_how_to_install(monkeypatch):
    from builder.ray_executor import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(UsageError, match=r"pip install -e '\.\[ray\]'"):
        list(RayExecutor(2).map(str, [1]))


def test_ray_executor_ships_what_the_builder_reads():
    from builder.ray_executor import SHIPPED, runtime_env

    env = runtime_env()
    assert env["working_dir"] == str(ROOT)
    for name in SHIPPED:
        assert (ROOT / name).exists() and f"/{name}" not in env["excludes"]
    for name in ("seeds", "tests", "build", ".git"):
        if (ROOT / name).exists():
            assert f"/{name}" in env["excludes"]


# --- RayExecutor on a local cluster -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ray_tmp() -> Iterator[str]:
    """Ray's session files in a folder of their own, removed afterwards. Not under pytest's tmp_path: Ray's
    socket paths inside it must stay under 108 bytes."""
    folder = tempfile.mkdtemp(prefix="ray-")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_TMPDIR", folder)
        yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="class")
def ray_cluster(ray_tmp):
    """A ``RayExecutor(2)`` that started a local cluster; executors made while it runs join that cluster."""
    import ray

    from builder.ray_executor import RayExecutor

    assert not ray.is_initialized()
    owner = RayExecutor(2)
    assert list(owner.map(COMPRESS, [b"warm up"])) == [(0, COMPRESS(b"warm up"))]
    assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2
    yield owner
    owner.close()
    assert not ray.is_initialized()


@needs_ray
def test_ray_address_without_a_cluster_is_a_usage_error(ray_tmp):
    import ray

    from builder.ray_executor import RayExecutor

    if ray.is_initialized():
        pytest.skip("a Ray cluster is running in this process")
    with pytest.raises(UsageError, match="--ray-address auto: no Ray cluster there"):
        list(RayExecutor(2, "auto").map(str, [1]))


@needs_ray
class TestLocalRayCluster:
    """One cluster for these tests, stopped before the end-to-end builds start their own."""

    def test_ray_files_are_byte_identical_to_local(self, ray_cluster, tmp_path):
        from builder.ray_executor import RayExecutor

        work = units(12)
        local, _ = run_units(LocalExecutor(1), COMPRESS, work, tmp_path / "local")
        executor = RayExecutor(2)
        remote, ran = run_units(executor, COMPRESS, work, tmp_path / "ray")
        executor.close()  # it joined the cluster: closing it leaves the cluster to its owner
        assert ran == 12
        assert files(tmp_path / "ray") == files(tmp_path / "local")
        assert [p.name for p in remote] == [p.name for p in local]
        assert run_units(RayExecutor(2), COMPRESS, work, tmp_path / "ray")[1] == 0

    def test_ray_window_bounds_submissions(self, ray_cluster):
        _assert_window(ray_cluster, str, 40, 2 * IN_FLIGHT)

    def test_ray_workers_run_the_shipped_builder(self, ray_cluster):
        """Workers import ``builder`` from the uploaded working_dir and find the files it reads beside it, but
        run in the driver's current directory. (``eval``, a builtin, runs the probes: this test module is not
        shipped to the workers.)"""
        from builder.versions import dataset_version

        probes = ["__import__('builder').__file__", "__import__('os').getcwd()",
                  "__import__('builder.versions').versions.dataset_version()"]
        got = dict(ray_cluster.map(eval, probes))
        shipped = Path(got[0]).parent.parent
        assert shipped != ROOT and (shipped / "builder" / "ray_executor.py").is_file()
        assert (shipped / "schema").is_dir() and (shipped / "pyproject.toml").is_file()
        assert not (shipped / "seeds").exists() and not (shipped / "tests").exists()
        assert got[1] == os.getcwd()
        assert got[2] == dataset_version()

    @pytest.mark.parametrize(("fn", "items", "error"), [
        pytest.param(int, ["1", "x", "3"], ValueError, id="ValueError"),
        pytest.param(bytes.decode, [b"ok", b"\xff"], UnicodeDecodeError, id="UnicodeDecodeError"),
    ])
    def test_ray_raises_the_functions_own_error(self, ray_cluster, fn, items, error):
        with pytest.raises(error):
            list(ray_cluster.map(fn, items))


# --- end to end: python -m builder build --executor ray --------------------------------------------------------

@needs_ray
def test_end_to_end_build_with_ray_is_byte_identical_to_local(ray_tmp, tmp_path):
    """Needs ``--executor {local,ray}`` on ``python -m builder build``."""
    runs = {"ray-2": ["--executor", "ray", "--workers", "2"],
            "local-1": ["--executor", "local", "--workers", "1"],
            "local-2": ["--executor", "local", "--workers", "2"]}
    built = {}
    for name, flags in runs.items():
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "builder", "build", "--seeds", "seeds", "--out", str(out),
                               *flags], cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "RAY_TMPDIR": ray_tmp})
        assert done.returncode == 0, f"{name}: {done.stderr}"
        built[name] = files(out)
    assert built["local-1"], "the build wrote nothing"
    for name in ("ray-2", "local-2"):
        assert sorted(built[name]) == sorted(built["local-1"]), name
        differ = [f for f in built["local-1"] if built[name][f] != built["local-1"][f]]
        assert not differ, f"{name} differs from local-1 in {differ}"
