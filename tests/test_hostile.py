"""Hostile inputs (issue 5): every encoding, line ending, folder shape and broken file the builder must take in
its stride, in ONE table. Each case is a folder of files made here, with what must become of every file:
an article (decoded with an expected encoding, and, for a re-encoded seed, the same article as its UTF-8
original), a duplicate of another file, or a reject with its reason (and byte offset where there is one).

Every case is built twice through the command line (``builder.__main__.main``), over a previous good build:
- by default: exit 1 when a reject is expected, every reject named on stderr with its reason and offset,
  the previous output byte-for-byte untouched, no temporary folder left;
- with ``--allow-rejects``: exit 0, a dataset that checks out, ``build_report.json`` with exactly one
  ``files`` entry per input and every reject under ``rejects``.

Expected values are written from the inputs and the spec, never taken from the code under test.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import stat
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from builder.__main__ import main
from builder.check import check_dataset
from builder.pipeline import Options, build
from conftest import SEEDS

MAX = 1 << 16  # --max-bytes for every build of this file: big enough for every seed in UTF-32, small to exceed

PT = (SEEDS / "000_649e56bae12c91cd.txt").read_text(encoding="utf-8")  # portal page, Portuguese
JA = (SEEDS / "001_85c76a0cb57df940.txt").read_text(encoding="utf-8")  # portal page, Japanese
ZH = (SEEDS / "002_64c3c0530d4eca56.txt").read_text(encoding="utf-8")  # dense page, Chinese
IT = (SEEDS / "003_a515efed1dfb9b2d.txt").read_text(encoding="utf-8")  # the "previous output" of every case

# The seeds' language menu mixes Hangul, Cyrillic, Greek and kanji: no single-byte (or Shift-JIS) encoding holds
# it. Pages meant for those encodings get a menu line of Latin autonyms instead; they are compared with the UTF-8
# encoding of exactly that text.
MENU = PT.splitlines()[6]
assert MENU.startswith("한어Русский") and MENU.endswith("Latina")
PT_1252 = PT.replace(MENU, "EnglishFrançaisIndonesianSanskritDeutschPortuguêsespañolItalianoSuomalainenLatina")
PT_LATIN1 = PT_1252.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "…": "..."}))
JA_SJIS = JA.replace(MENU, "EnglishFrancaisIndonesianSanskrit日本語DeutschPortuguesespanolItalianoSuomalainenLatina")
KO = """뉴스

오픈AI 경영진 잇단 사임의 내막이 드러나다, 많은 직원들이 회사를 떠났다

2024-09-27

EnglishFrancaisIndonesianDeutschPortuguesespanolItalianoSuomalainenLatina

오픈AI에 무슨 일이 일어났나?

오픈AI에서 경영진의 사임이 잇따르면서 그 내막이 드러났다. 많은 직원들이 회사를 떠났으며, 외신은 회사 내부의 갈등에 대해 자세히 보도했다.

보도에 따르면 연구 부서와 제품 부서 사이에 의견 차이가 계속되어 왔다고 한다. 회사는 이번 일에 대해 공식적인 입장을 밝히지 않았다.

한편 투자 후 기업 가치는 1500억 달러에 이르는 것으로 알려져, 전 세계 인공지능 기업 가운데 가장 높은 평가를 받았다.

업계에서는 이번 사태가 회사의 앞으로의 연구 방향과 제품 전략에 큰 영향을 미칠 것으로 보고 있다.
"""

# PT split into its header (section word, title, date, menu) and its body, for the repeated-body case.
_blocks = PT.split("\n\n")
PT_HEAD, PT_BODY = "\n\n".join(_blocks[:4]), "\n\n".join(_blocks[4:]).strip("\n")
assert PT_HEAD.startswith("notícias") and PT_HEAD.endswith("Latina") and len(PT_BODY) > 10_000


def bom(encoding: str) -> bytes:
    return {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE,
            "utf-32-be": codecs.BOM_UTF32_BE, "utf-8": codecs.BOM_UTF8}[encoding]


def with_bom(text: str, encoding: str) -> bytes:
    return bom(encoding) + text.encode(encoding)


# ----------------------------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Article:
    """An article decoded with one of ``encodings`` (Python codec names as codecs.lookup spells them); when
    ``same_as`` is given, the same article as that text encoded in UTF-8 (lang, title, date, paragraph texts
    and kinds)."""

    encodings: frozenset[str]
    same_as: str | None = None
    repeated_body: bool = False  # the page repeats its body: removed must hold repeated_body spans


@dataclass(frozen=True)
class Duplicate:
    of: str  # the input path of the kept article


@dataclass(frozen=True)
class Rejected:
    reason: str | None  # None: any reason, as long as the file is rejected and named
    offset: int | None = None


@dataclass(frozen=True)
class Accounted:
    """Any outcome, as long as the file is reported (one entry in files) and nothing crashes."""


def article(*encodings: str, same_as: str | None = None, repeated_body: bool = False) -> Article:
    return Article(frozenset(encodings), same_as, repeated_body)


UTF8, UTF8_SIG = article("utf-8"), article("utf-8-sig")


# ---------------------------------------------------------------------------------------------- special files


@dataclass(frozen=True)
class Symlink:
    target: str  # "outside/..." resolves beside the input folder; anything else inside it


@dataclass(frozen=True)
class Fifo:
    pass


SECRET = "This text lives outside the input folder and must never be read through a link.\n"


# -------------------------------------------------------------------------------------------------- the table

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00\x5c\x72\xa8\x66"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00C\x00"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00"
HIGH_BYTES = bytes(range(0x80, 0x100))  # no encoding makes text of every high byte with nothing else
CONTROLS = b"page\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15 text"
NUL_PAGE = PT.encode("utf-8")[:500] + b"\x00" + PT.encode("utf-8")[500:]
PADDED = PT.encode("utf-8") + b"\n" * (MAX - len(PT.encode("utf-8")))  # a page of exactly --max-bytes
assert len(PADDED) == MAX

# every hostile file that must be rejected, all in one folder, with the reason and byte offset
HOSTILE = {
    "empty.txt": (b"", Rejected("empty")),
    "blank.txt": (b"  \n\t\r\n \f\n", Rejected("no_text")),
    "bom-then-blank.txt": (codecs.BOM_UTF8 + b" \r\n\t", Rejected("no_text")),
    "utf16-blank.txt": (with_bom(" \n \n", "utf-16-le"), Rejected("no_text")),
    "image.png.txt": (PNG, Rejected("binary", 0)),
    "photo.txt": (JPEG, Rejected("binary", 0)),
    "doc.txt": (PDF, Rejected("binary", 0)),
    "archive.txt": (GZIP, Rejected("binary", 0)),
    "controls.txt": (CONTROLS, Rejected("binary")),
    "high-bytes.txt": (HIGH_BYTES, Rejected("undecodable", 0)),
    "bom-then-bad.txt": (codecs.BOM_UTF8 + "título\n".encode() + b"\xff\xfe more",
                         Rejected("undecodable", 3 + len("título\n".encode()))),
    "utf16-odd-length.txt": (with_bom("a title\n", "utf-16-le") + b"x", Rejected("undecodable", 18)),
    "utf16-lone-surrogate.txt": (codecs.BOM_UTF16_BE + "ab".encode("utf-16-be") + b"\xdc\x00",
                                 Rejected("undecodable", 6)),
    "nul.txt": (NUL_PAGE, Rejected("nul_byte", 500)),
    "nul-first.txt": (b"\x00" + PT.encode("utf-8"), Rejected("nul_byte", 0)),
    "utf16-without-bom.txt": (PT.encode("utf-16-le"), Rejected("nul_byte", 1)),
    "too-large.txt": (PADDED + b"x", Rejected("too_large")),
    "link.txt": (Symlink("outside/secret.txt"), Rejected("symlink")),
    "dangling.txt": (Symlink("outside/nowhere.txt"), Rejected("symlink")),
    "linked-folder": (Symlink("outside"), Rejected("symlink")),
    "inner-link.txt": (Symlink("sub/ok.txt"), Rejected("symlink")),
}


def case(files: dict, id: str, marks=()):
    return pytest.param(files, id=id, marks=marks)


def xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


CASES = [
    # --- the Chinese seed (a dense page) in every encoding that holds it
    case({"zh.txt": (ZH.encode("utf-8"), article("utf-8", same_as=ZH))}, "zh-utf-8"),
    case({"zh.txt": (codecs.BOM_UTF8 + ZH.encode(), article("utf-8-sig", same_as=ZH))}, "zh-utf-8-bom"),
    case({"zh.txt": (with_bom(ZH, "utf-16-le"), article("utf-16-le", same_as=ZH))}, "zh-utf-16-le"),
    case({"zh.txt": (with_bom(ZH, "utf-16-be"), article("utf-16-be", same_as=ZH))}, "zh-utf-16-be"),
    case({"zh.txt": (with_bom(ZH, "utf-32-le"), article("utf-32-le", same_as=ZH))}, "zh-utf-32-le"),
    case({"zh.txt": (ZH.encode("gb18030"), article("gb18030", same_as=ZH))}, "zh-gb18030"),
    case({"zh.txt": (ZH.encode("gbk"), article("gbk", "gb18030", same_as=ZH))}, "zh-gbk"),
    case({"zh.txt": (ZH.replace("\n", "\r\n").encode(), article("utf-8", same_as=ZH))}, "zh-crlf"),
    case({"zh.txt": (ZH.replace("\n", "\r").encode(), article("utf-8", same_as=ZH))}, "zh-cr"),
    case({"zh.txt": (ZH.replace("\n", "\r\n").encode("gb18030"), article("gb18030", same_as=ZH))}, "zh-gb18030-crlf"),
    case({"zh.txt": (with_bom(ZH.replace("\n", "\r"), "utf-16-be"), article("utf-16-be", same_as=ZH))},
         "zh-utf-16-be-cr"),
    # --- the Portuguese seed (a portal page)
    case({"pt.txt": (PT.encode("utf-8"), article("utf-8", same_as=PT))}, "pt-utf-8"),
    case({"pt.txt": (codecs.BOM_UTF8 + PT.encode(), article("utf-8-sig", same_as=PT))}, "pt-utf-8-bom"),
    case({"pt.txt": (with_bom(PT, "utf-16-le"), article("utf-16-le", same_as=PT))}, "pt-utf-16-le"),
    case({"pt.txt": (with_bom(PT, "utf-16-be"), article("utf-16-be", same_as=PT))}, "pt-utf-16-be"),
    case({"pt.txt": (PT.encode("gb18030"), article("gb18030", same_as=PT))}, "pt-gb18030"),
    case({"pt.txt": (PT_1252.encode("cp1252"), article("cp1252", same_as=PT_1252))}, "pt-windows-1252"),
    case({"pt.txt": (PT_LATIN1.encode("latin-1"), article("iso8859-1", "cp1252", same_as=PT_LATIN1))},
         "pt-latin-1"),
    case({"pt.txt": (PT.replace("\n", "\r\n").encode(), article("utf-8", same_as=PT))}, "pt-crlf"),
    case({"pt.txt": (PT.replace("\n", "\r").encode(), article("utf-8", same_as=PT))}, "pt-cr"),
    case({"pt.txt": (codecs.BOM_UTF8 + PT.replace("\n", "\r\n").encode(), article("utf-8-sig", same_as=PT))},
         "pt-utf-8-bom-crlf"),
    case({"pt.txt": (with_bom(PT.replace("\n", "\r\n"), "utf-16-le"), article("utf-16-le", same_as=PT))},
         "pt-utf-16-le-crlf"),
    case({"pt.txt": (PT_1252.replace("\n", "\r\n").encode("cp1252"), article("cp1252", same_as=PT_1252))},
         "pt-windows-1252-crlf"),
    # --- the other East Asian encodings, on pages whose every character they hold
    case({"ja.txt": (JA_SJIS.encode("shift_jis"), article("shift_jis", "cp932", "shift_jis_2004",
                                                           "shift_jisx0213", same_as=JA_SJIS))}, "ja-shift-jis"),
    case({"ko.txt": (KO.encode("euc-kr"), article("euc_kr", "cp949", same_as=KO))}, "ko-euc-kr"),
    # --- a body written three times: kept once, the copies removed as repeated_body
    case({"pt.txt": ((PT_HEAD + "\n\n" + "\n\n".join([PT_BODY] * 3) + "\n").encode(),
                     article("utf-8", same_as=PT, repeated_body=True))}, "body-repeated-3-times"),
    case({"pt.txt": ((PT_HEAD + "\r\n\r\n" + "\r\n\r\n".join([PT_BODY.replace("\n", "\r\n")] * 2)).encode("gb18030"),
                     article("gb18030", same_as=PT, repeated_body=True))}, "body-repeated-twice-gb18030-crlf"),
    # --- folders and order: nested, and the copy that sorts first is the one kept
    case({"a/b/c/d/pt.txt": (PT.encode(), UTF8), "x/zh.txt": (ZH.encode("gb18030"), article("gb18030")),
          "x/y/it.txt": (IT.encode(), UTF8), "top.txt": (JA.encode(), UTF8)}, "nested-folders"),
    case({"z.txt": (PT.encode(), Duplicate("a/b/copy.txt")), "a/b/copy.txt": (with_bom(PT, "utf-16-be"),
                                                                             article("utf-16-be"))},
         "copy-sorted-first-is-kept"),
    case({"zh-utf8.txt": (ZH.encode(), Duplicate("zh-crlf.txt")), "zh-gbk.txt": (ZH.encode("gbk"),
                                                                            Duplicate("zh-crlf.txt")),
          "zh-utf16.txt": (with_bom(ZH, "utf-16-le"), Duplicate("zh-crlf.txt")),
          "zh-crlf.txt": (ZH.replace("\n", "\r\n").encode(), UTF8)},  # sorts first: the one kept
         "re-encoded-copies-are-duplicates"),
    # --- the size bound: exactly --max-bytes is a page
    case({"padded.txt": (PADDED, UTF8)}, "exactly-max-bytes"),
    # --- every hostile file at once, beside good pages
    case({"sub/ok.txt": (ZH.encode("gb18030"), article("gb18030")), "good.txt": (PT.encode(), UTF8),
          **HOSTILE}, "all-hostile-files-in-one-folder"),
    *[case({name: spec, "ok.txt": (IT.encode(), UTF8), "sub/ok.txt": (ZH.encode(), UTF8)}, f"alone-{name}")
      for name, spec in HOSTILE.items()],
    # --- once bugs, now cases: NUL after a BOM, U+0000 in UTF-16, a text page starting with "RIFF",
    #     a file name that is not UTF-8, a named pipe
    case({"bom-nul.txt": (codecs.BOM_UTF8 + PT.encode()[:300] + b"\x00" + PT.encode()[300:],
                          Rejected("nul_byte", 303))}, "nul-byte-after-utf-8-bom"),
    case({"u16-nul.txt": (with_bom(PT[:300] + "\x00" + PT[300:], "utf-16-le"), Rejected("nul_byte", 602))},
         "nul-character-in-utf-16"),
    case({"riff.txt": (b"RIFFS AND RHYTHMS: a guitar column\n\nThe band played all night long, and the crowd "
                       b"loved every minute of it, from the first chord to the last encore.\n", UTF8)},
         "text-page-starting-with-RIFF"),
    case({"pipe.txt": (Fifo(), Rejected(None)), "ok.txt": (IT.encode(), UTF8)}, "named-pipe"),
]


# ------------------------------------------------------------------------------------------------ the runner


def _make(root: Path, files: dict) -> None:
    """Write the case's files under root/in, and an 'outside' folder beside it for links to point to."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    seeds = root / "in"
    seeds.mkdir()
    for rel, (spec, _) in files.items():
        path = seeds / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, Symlink):
            target = root / spec.target if spec.target.startswith("outside") else seeds / spec.target
            path.symlink_to(target, target_is_directory=target.is_dir())
        elif isinstance(spec, Fifo):
            os.mkfifo(path)
        else:
            path.write_bytes(spec)


def _inputs(seeds: Path) -> set[str]:
    """Every entry under seeds that is an input: regular files, FIFOs, and links (to files or folders)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(seeds, followlinks=False):
        here = Path(dirpath)
        for name in filenames + [d for d in dirnames if (here / d).is_symlink()]:
            found.add((here / name).relative_to(seeds).as_posix())
    return found


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class Watchdog:
    """Unblocks any reader stuck on a FIFO under ``seeds`` and records that it had to. Deterministic: a
    writer can open a FIFO without blocking (O_NONBLOCK) only when a reader has it open."""

    def __init__(self, seeds: Path):
        self.fifos = [p for p in seeds.rglob("*") if not p.is_symlink() and stat.S_ISFIFO(p.lstat().st_mode)]
        self.unblocked: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(0.2):
            for fifo in self.fifos:
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as err:
                    assert err.errno == errno.ENXIO  # no reader: nobody is blocked on it
                    continue
                self.unblocked.append(fifo.name)
                os.close(fd)  # the reader now sees end of file

    def __enter__(self):
        if self.fifos:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.fifos:
            self._thread.join()


def _cli(seeds: Path, out: Path, *extra: str) -> int:
    with Watchdog(seeds) as dog:
        code = main(["build", "--seeds", str(seeds), "--out", str(out), "--workers", "1", "--max-bytes", str(MAX),
                     *extra])
    assert dog.unblocked == [], f"the build blocked reading {dog.unblocked}"
    return code


def _decoded(data: bytes, encoding: str) -> str:
    """The text the spec says a source is: decoded with its encoding, BOM dropped, line endings kept."""
    text = data.decode(encoding)
    return text[1:] if encoding.startswith(("utf-16", "utf-32")) and text.startswith("\ufeff") else text


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _tables(out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    return (pl.read_parquet(out / "articles" / "*.parquet"), pl.read_parquet(out / "paragraphs" / "*.parquet"))


def _article_view(articles: pl.DataFrame, paragraphs: pl.DataFrame, path: str) -> dict:
    row = articles.filter(pl.col("source_path") == path).row(0, named=True)
    paras = paragraphs.filter(pl.col("article_id") == row["article_id"]).sort("position")
    return {"lang": row["lang"], "title": row["title"], "published": row["published"],
            "paragraphs": list(zip(paras["kind"], paras["text"]))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The article a text gives when it is the only input, in UTF-8 with LF line endings."""
    cache: dict[str, dict] = {}

    def get(text: str) -> dict:
        if text not in cache:
            root = tmp_path_factory.mktemp("reference")
            (root / "in").mkdir()
            (root / "in" / "page.txt").write_bytes(text.encode("utf-8"))
            build(Options(seeds=root / "in", out=root / "out", max_bytes=MAX))
            cache[text] = _article_view(*_tables(root / "out"), "page.txt")
        return cache[text]

    return get


@pytest.mark.parametrize("files", CASES)
def test_hostile_inputs(files, tmp_path, capsys, reference):
    _make(tmp_path, files)
    seeds, out = tmp_path / "in", tmp_path / "out"
    expected = {rel: outcome for rel, (_, outcome) in files.items()}
    assert _inputs(seeds) == set(expected), "the test made what it meant to"
    rejects = {rel: e for rel, e in expected.items() if isinstance(e, Rejected)}

    # a previous good build of something else
    previous_in = tmp_path / "previous"
    previous_in.mkdir()
    (previous_in / "it.txt").write_bytes(IT.encode())
    build(Options(seeds=previous_in, out=out))
    before = _files(out)
    capsys.readouterr()

    # --- default mode: any reject fails the build, names every reject, writes nothing
    code = _cli(seeds, out)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if rejects:
        assert code == 1, err
        for rel, e in rejects.items():
            where = f" at byte {e.offset}" if e.offset is not None else ""
            named = [line for line in err.splitlines() if line.strip().startswith(f"{rel}{where}: ")]
            assert len(named) == 1, f"{rel} not named once on stderr as '{rel}{where}: <reason>: ...':\n{err}"
            if e.reason is not None:
                assert named[0].strip().startswith(f"{rel}{where}: {e.reason}: "), named[0]
        assert _files(out) == before, "a failed build must leave the previous output untouched"
    else:
        assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "outside", "previous"], \
        "no temporary folder is left beside the output"

    # --- --allow-rejects: the dataset is written and every input is accounted for
    code = _cli(seeds, out, "--allow-rejects")
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "outside", "previous"]
    check_dataset(out)
    report = json.loads((out / "build_report.json").read_text(encoding="utf-8"))
    entries = report["files"]
    assert sorted(f["path"] for f in entries) == sorted(expected) or any(
        isinstance(e, Accounted) for e in expected.values()), "exactly one files entry per input"
    assert len(entries) == len(expected) == report["inputs"]
    by_path = {f["path"]: f for f in entries}
    path_of_id = {f["article_id"]: f["path"] for f in entries if f.get("article_id")}
    articles, paragraphs = _tables(out)
    assert sorted(articles["source_path"]) == sorted(f["path"] for f in entries if f["outcome"] != "rejected")
    reported_rejects = {r["path"]: r for r in report["rejects"]}
    assert len(reported_rejects) == len(report["rejects"]) == len(rejects)

    for rel, e in expected.items():
        if isinstance(e, Accounted):
            continue
        entry = by_path[rel]
        if isinstance(e, Rejected):
            assert entry["outcome"] == "rejected", entry
            r = reported_rejects[rel]
            assert r["offset"] == e.offset and r["detail"], r
            if e.reason is not None:
                assert entry["reason"] == r["reason"] == e.reason, entry
            continue
        if isinstance(e, Duplicate):
            assert entry["outcome"] == "duplicate", entry
            assert path_of_id[entry["duplicate_of"]] == e.of
            continue
        assert entry["outcome"] == "article", entry
        row = articles.filter(pl.col("source_path") == rel).row(0, named=True)
        assert row["source_encoding"] in e.encodings, row["source_encoding"]
        data = (seeds / rel).read_bytes()
        text = _decoded(data, row["source_encoding"])
        paras = paragraphs.filter(pl.col("article_id") == row["article_id"])
        # every paragraph is its span of the decoded file, folded; every non-space character is in one span
        owner = [None] * len(text)
        spans = [(p["char_start"], p["char_end"], "p") for p in paras.iter_rows(named=True)]
        spans += [(s["char_start"], s["char_end"], s["reason"]) for s in row["removed"]]
        for p in paras.iter_rows(named=True):
            assert p["text"] == _fold(text[p["char_start"]:p["char_end"]])
        for start, end, what in spans:
            assert 0 <= start < end <= len(text)
            for i in range(start, end):
                assert owner[i] is None, f"character {i} is in two spans"
                owner[i] = what
        lost = [i for i, ch in enumerate(text) if not ch.isspace() and owner[i] is None]
        assert lost == [], f"characters in no span, e.g. {text[lost[0]:lost[0] + 30]!r}"
        if e.repeated_body:  # every non-space character of the second and later copies is repeated_body
            body = PT_BODY.replace("\n", "\r\n") if "\r\n" in text else PT_BODY
            first = text.index(body)
            copies = [i for i in range(first + 1, len(text)) if text.startswith(body, i)]
            assert copies, "the case holds copies of the body"
            for start in copies:
                assert {owner[i] for i in range(start, start + len(body)) if not text[i].isspace()} == \
                    {"repeated_body"}
        if e.same_as is not None:
            assert _article_view(articles, paragraphs, rel) == reference(e.same_as)

    # nothing was read through a link
    assert not paragraphs.filter(pl.col("text").str.contains("must never be read through a link")).height


def test_file_name_not_utf8_is_rejected_and_shown_escaped(tmp_path, capsys):
    """A Latin-1 file name (b'caf\\xe9.txt') cannot be written as text: rejected, shown with a \\x escape."""
    seeds = tmp_path / "in"
    seeds.mkdir()
    (seeds / os.fsdecode(b"caf\xe9.txt")).write_bytes(PT.encode())
    (seeds / "ok.txt").write_bytes(IT.encode())
    assert main(["build", "--seeds", str(seeds), "--out", str(tmp_path / "out")]) == 1
    assert "caf\\xe9.txt: bad_file_name: " in capsys.readouterr().err
    assert main(["build", "--seeds", str(seeds), "--out", str(tmp_path / "out"), "--allow-rejects"]) == 0
    report = json.loads((tmp_path / "out" / "build_report.json").read_text(encoding="utf-8"))
    assert [(r["path"], r["reason"]) for r in report["rejects"]] == [("caf\\xe9.txt", "bad_file_name")]
