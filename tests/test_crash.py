"""Crashes (issue 5): a build killed at any moment (SIGKILL) leaves the previous output untouched and no
half-written folder a loader could take for a dataset; a later build works; 1 or N workers, same bytes;
``validate`` says what is wrong with a half-written folder instead of crashing.

The kills run ``python -m builder build --workers 1`` as a subprocess over a corpus that takes a few seconds
(``../shared/eval/ntrex-dev/inputs``, or pages made from the seeds when shared/ is missing), into an OUT that
holds the build of a different, small corpus. Two kill points are made exact by a small runner that pauses
the build at a named point of builder/write.py (the code itself is not changed, only held still there).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.__main__ import main
from builder.check import check_dataset
from builder.errors import DatasetProblem
from builder.pipeline import Options, build
from conftest import ROOT, SEEDS, SHARED

NTREX = SHARED / "eval" / "ntrex-dev" / "inputs"
SMALL = ["000_649e56bae12c91cd.txt", "003_a515efed1dfb9b2d.txt"]  # the previous output: two seeds

# Runs the command line with the build held still (for 60 s) at one point, after touching a marker file:
#   before-publish  every file of the new dataset, manifest.json last, is in the temporary folder; not yet swapped
#   after-exchange  the new dataset has been swapped in; the old one, now in the temporary folder, not yet deleted
RUNNER = '''
import sys, time
from pathlib import Path
import builder.write as write

point, marker, argv = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]

def hold():
    marker.write_text("held")
    time.sleep(60)

if point == "before-publish":
    publish = write.publish_folder
    def publish_folder(tmp, out):
        hold()
        return publish(tmp, out)
    write.publish_folder = publish_folder
elif point == "after-exchange":
    exchange = write._exchange
    def _exchange(a, b):
        done = exchange(a, b)
        if done:
            hold()
        return done
    write._exchange = _exchange
else:
    raise SystemExit(f"unknown point {point}")

from builder.__main__ import main
sys.exit(main(argv))
'''


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _variants(count: int) -> dict[str, bytes]:
    """``count`` pages made from the seeds, each a different selection of paragraphs under its own title."""
    pages = {}
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    for i in range(count):
        lines = [line for line in texts[i % len(texts)].splitlines() if line.strip()]
        keep = [line for j, line in enumerate(lines[1:]) if (j * 7 + i) % 5 != 0]
        pages[f"gen/{i:04d}.txt"] = "\n".join([f"{i}: {lines[0]}", *keep]).encode("utf-8")
    return pages


BIG = 150  # pages: a build of a few seconds (reading, parsing and linking), long enough to be killed mid-way


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """An input folder whose build takes a few seconds."""
    root = tmp_path_factory.mktemp("big")
    if NTREX.is_dir():
        pages = {p.name: p.read_bytes() for p in sorted(NTREX.iterdir())[:BIG]}
    else:
        pages = _variants(BIG)
    for rel, data in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def big_output(big, tmp_path_factory) -> dict[str, bytes]:
    """The bytes a complete build of ``big`` gives (run as the killed builds are: a fresh process)."""
    out = tmp_path_factory.mktemp("reference") / "dataset"
    done = subprocess.run([sys.executable, "-m", "builder", *_build_args(big, out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return _files(out)


@pytest.fixture
def scene(tmp_path):
    """OUT holding the build of a small corpus, beside unrelated files that no build may touch."""
    small = tmp_path / "small"
    small.mkdir()
    for name in SMALL:
        shutil.copy(SEEDS / name, small / name)
    parent = tmp_path / "data"
    parent.mkdir()
    out = parent / "out"
    build(Options(seeds=small, out=out, workers=1))
    (parent / "notes.txt").write_text("mine\n")
    (parent / ".out.bak").mkdir()  # looks a little like ours; is not
    (parent / ".out.bak" / "keep.txt").write_text("keep\n")
    (parent / "out-old").mkdir()
    (parent / "out-old" / "manifest.json").write_text("{}\n")
    others = {p.name: _files(p) if p.is_dir() else p.read_bytes() for p in parent.iterdir() if p != out}
    return out, _files(out), others


def _others(parent: Path, names) -> dict:
    return {n: _files(parent / n) if (parent / n).is_dir() else (parent / n).read_bytes() for n in names}


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "build.log", "wb")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _build_args(big: Path, out: Path) -> list[str]:
    return ["build", "--seeds", str(big), "--out", str(out), "--workers", "1"]


def _tmp_folders(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.tmp-")]


def _wait(proc: subprocess.Popen, ready, what: str, timeout: float = 300) -> None:
    """Poll (as fast as it goes) until ``ready()``; fail if the build ends first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the build ended (exit {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} after {timeout} s")


def _check_after_kill(out: Path, previous: dict, new: dict, others: dict) -> None:
    files = _files(out)
    assert files == previous or files == new, "OUT is either the previous output or the new one, whole"
    check_dataset(out)
    assert main(["validate", str(out)]) == 0
    parent = out.parent
    assert _others(parent, others) == others, "files beside OUT are untouched"
    for leftover in sorted(p for p in parent.iterdir() if p != out and p.name not in others):
        assert re.match(rf"\.{re.escape(out.name)}\.((tmp|old)-|work$)", leftover.name), \
            f"{leftover.name}: only hidden temporary folders (and the work files to resume from) may be left beside OUT"
        if (leftover / "manifest.json").exists():
            check_dataset(leftover)  # a folder with a manifest.json must check out


KILLS = [
    pytest.param("after 0.2 s", id="at-0.2s"),
    pytest.param("after 0.5 s", id="at-0.5s"),
    pytest.param("after 1.0 s", id="at-1s"),
    pytest.param("after 2.0 s", id="at-2s"),
    pytest.param("tmp folder appears", id="when-tmp-folder-appears"),
    pytest.param("a shard is in the tmp folder", id="when-a-shard-is-written"),
    pytest.param("before-publish", id="manifest-written-not-swapped"),
    pytest.param("after-exchange", id="swapped-old-not-deleted"),
]


@pytest.mark.parametrize("when", KILLS)
def test_sigkill_leaves_previous_output_whole(when, big, big_output, scene, tmp_path):
    out, previous, others = scene
    if when in ("before-publish", "after-exchange"):
        marker = tmp_path / "held"
        (tmp_path / "runner.py").write_text(RUNNER)
        proc = _start([sys.executable, str(tmp_path / "runner.py"), when, str(marker), *_build_args(big, out)],
                      tmp_path)
        _wait(proc, marker.exists, f"the build reached {when}")
    else:
        proc = _start([sys.executable, "-m", "builder", *_build_args(big, out)], tmp_path)
        if when.startswith("after "):
            time.sleep(float(when.split()[1]))
        elif when == "tmp folder appears":
            _wait(proc, lambda: bool(_tmp_folders(out)), when)
        else:
            _wait(proc, lambda: any(t.glob("*/*.parquet") for t in _tmp_folders(out)), when)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log = (tmp_path / "build.log").read_text(errors="replace")
    assert "Traceback" not in log, log

    if when == "before-publish":  # killed with the new dataset complete but not swapped in
        assert proc.returncode == -signal.SIGKILL
        [tmp] = _tmp_folders(out)
        assert _files(tmp) == big_output, "the held build had written everything"
        assert _files(out) == previous
    if when == "after-exchange":  # killed right after the swap
        assert proc.returncode == -signal.SIGKILL
        assert _files(out) == big_output
    if when in ("tmp folder appears", "a shard is in the tmp folder") and proc.returncode == -signal.SIGKILL:
        assert _files(out) == previous
    _check_after_kill(out, previous, big_output, others)


def test_build_after_a_kill(big, big_output, scene, tmp_path):
    """Kill a build mid-write, then build again: the new output is whole and nothing else is touched."""
    out, previous, others = scene
    proc = _start([sys.executable, "-m", "builder", *_build_args(big, out)], tmp_path)
    _wait(proc, lambda: any(t.glob("*/*.parquet") for t in _tmp_folders(out)), "a shard in the tmp folder")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = {p.name: _files(p) for p in _tmp_folders(out)}
    _check_after_kill(out, previous, big_output, others)

    again = subprocess.run([sys.executable, "-m", "builder", *_build_args(big, out)], cwd=ROOT, capture_output=True,
                           text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert _files(out) == big_output
    check_dataset(out)
    assert _others(out.parent, others) == others, "files beside OUT are untouched"
    after = {p.name for p in out.parent.iterdir()} - set(others) - {out.name}
    assert after <= set(leftovers), f"the new build left {sorted(after - set(leftovers))} beside OUT"
    assert leftovers and not after & set(leftovers), "the new build removes the killed one's temporary folders"
    # a default-mode build that fails on a reject after all this still leaves OUT alone
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ok.txt").write_bytes((SEEDS / SMALL[0]).read_bytes())
    (bad / "empty.txt").write_bytes(b"")
    failed = subprocess.run([sys.executable, "-m", "builder", "build", "--seeds", str(bad), "--out", str(out),
                             "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert failed.returncode == 1 and "empty.txt: empty" in failed.stderr and "Traceback" not in failed.stderr
    assert _files(out) == big_output


# ------------------------------------------------------------------------------------ same bytes, any workers


@pytest.fixture(scope="module")
def fifty(tmp_path_factory) -> Path:
    """About fifty pages: real pages, the seeds, re-encoded copies (duplicates), a near duplicate, rejects."""
    root = tmp_path_factory.mktemp("fifty")
    files = {}
    if NTREX.is_dir():
        files |= {f"ntrex/{p.name}": p.read_bytes() for p in sorted(NTREX.iterdir())[:36]}
    else:
        files |= _variants(36)
    files |= {f"seeds/{p.name}": p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))}
    zh = (SEEDS / "002_64c3c0530d4eca56.txt").read_text(encoding="utf-8")
    pt = (SEEDS / "000_649e56bae12c91cd.txt").read_text(encoding="utf-8")
    files |= {
        "copies/zh-gb18030.txt": zh.encode("gb18030"),
        "copies/pt-utf16.txt": b"\xff\xfe" + pt.replace("\n", "\r\n").encode("utf-16-le"),
        "copies/pt-near.txt": pt.replace("tempestade", "tormenta", 1).encode(),
        "bad/empty.txt": b"",
        "bad/nul.txt": b"a\x00b",
        "bad/image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    for i in range(3):
        files[f"more/{i}/page.txt"] = f"Page {i} title\n\nA paragraph about item {i}.\n".encode()
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    assert 45 <= len(files) <= 60
    return root


def test_one_or_two_workers_same_bytes(fifty, tmp_path):
    outputs = []
    for name, workers in (("w1", 1), ("w2", 2), ("w2-again", 2), ("w1-again", 1)):
        build(Options(seeds=fifty, out=tmp_path / name, allow_rejects=True, workers=workers))
        outputs.append(_files(tmp_path / name))
    report = json.loads(outputs[0]["build_report.json"])
    assert report["outcomes"].get("duplicate", 0) >= 3 and report["outcomes"]["rejected"] == 3, \
        "the corpus exercises duplicates and rejects"
    for other in outputs[1:]:
        assert sorted(other) == sorted(outputs[0])
        assert [rel for rel in outputs[0] if other[rel] != outputs[0][rel]] == []


# ------------------------------------------------------------------------- validate on half-written folders


def _truncate(rel: str, keep: float):
    def damage(folder: Path):
        data = (folder / rel).read_bytes()
        (folder / rel).write_bytes(data[:int(len(data) * keep)])
    return damage


def _write(rel: str, data: bytes):
    def damage(folder: Path):
        (folder / rel).write_bytes(data)
    return damage


def _remove(rel: str):
    def damage(folder: Path):
        (folder / rel).unlink()
    return damage


HALF_WRITTEN = [
    pytest.param(_remove("manifest.json"), "no manifest.json", id="no-manifest"),
    pytest.param(_remove("paragraphs/train-00000-of-00001.parquet"), "missing", id="shard-missing"),
    pytest.param(_write("build_report.json", b'{"files": ['), "sha256", id="report-half-written"),
    pytest.param(_truncate("manifest.json", 0.5), "manifest.json", id="manifest-half-written"),
    pytest.param(_write("manifest.json", b""), "manifest.json", id="manifest-empty"),
    pytest.param(_write("manifest.json", b"[]\n"), "manifest.json", id="manifest-not-an-object"),
    pytest.param(_truncate("paragraphs/train-00000-of-00001.parquet", 0.5), "paragraphs/train-00000-of-00001",
                 id="shard-half-written"),
]


@pytest.mark.parametrize("damage, named", HALF_WRITTEN)
def test_validate_lists_problems_of_a_half_written_folder(damage, named, tmp_path, capsys):
    seeds = tmp_path / "in"
    seeds.mkdir()
    for name in SMALL:
        shutil.copy(SEEDS / name, seeds / name)
    out = tmp_path / "out"
    build(Options(seeds=seeds, out=out))
    damage(out)
    capsys.readouterr()
    with pytest.raises(DatasetProblem) as err:
        check_dataset(out)
    assert any(named in p for p in err.value.problems), err.value.problems
    assert main(["validate", str(out)]) == 1
    stderr = capsys.readouterr().err
    assert named in stderr and "Traceback" not in stderr


# ------------------------------------------------------------------------------------ resume after a kill
def test_killed_build_resumes_from_finished_shards(big, big_output, tmp_path):
    """Killed once a few shards are done, the next build takes them from the work files and runs only the
    rest; the bytes are those of a build that was never stopped (and of one cut into other shards)."""
    out = tmp_path / "out"
    args = ["build", "--seeds", str(big), "--out", str(out), "--workers", "1", "--shard-files", "10"]
    proc = _start([sys.executable, "-m", "builder", *args], tmp_path)
    done = out.parent / f".{out.name}.work" / "docs"
    _wait(proc, lambda: len(list(done.glob("*.done"))) >= 3, "three finished shards")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(done.glob("*.done")))
    assert 3 <= finished < 15, "killed part way through the 15 shards"
    again = subprocess.run([sys.executable, "-m", "builder", *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert again.returncode == 0, again.stderr
    resumed = re.search(r"\((\d+) shards resumed\)", again.stdout)
    assert resumed and int(resumed.group(1)) >= finished, again.stdout
    assert _files(out) == big_output
    assert not (out.parent / f".{out.name}.work").exists(), "the work files go once the build is done"
