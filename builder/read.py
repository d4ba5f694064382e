"""Stage 1, read: find the input files, decode them, and reject what cannot be a page.

A file becomes a ``Source`` (decoded text, BOM dropped, line endings kept) or a ``Reject`` with a reason.
Symbolic links are never followed: they could lead outside the input folder.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import charset_normalizer

from .errors import Reject
from .records import Source

MAX_BYTES = 8 * 1024 * 1024  # a scraped news page is a few KB; anything past 8 MiB is not one page

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # control characters that text does not hold
_MAGIC = {  # signatures of common binary formats that get saved with a .txt name
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"%PDF-": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip stream",
    b"RIFF": "a RIFF (WebP/WAV) file",
}


def _walk(root: Path) -> Iterator[str | Reject]:
    """Relative paths ('/'-separated) of every file under ``root``, in walk order; symlinks as Rejects."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"input folder {str(root)!r} does not exist or is not a folder")
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        links = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in links)
        for name in sorted(filenames + links):
            rel = prefix + name
            if (here / name).is_symlink():
                yield Reject(printable(rel), "symlink", f"a symbolic link to {printable(os.readlink(here / name))!r}; "
                             "links are never followed: copy the file into the input folder instead")
            elif printable(rel) != rel:
                yield Reject(printable(rel), "bad_file_name", "the file name is not valid UTF-8 (shown with "
                             "\\x escapes); rename the file")
            else:
                yield rel


def printable(path: str) -> str:
    """A path as text: bytes that are not UTF-8 (surrogate-escaped by the OS layer) shown as \\xNN."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def list_inputs(root: Path) -> list[str | Reject]:
    """Every input under ``root``, sorted by relative path (walk order puts a folder's files before its
    subfolders'); symbolic links and undecodable names as Rejects."""
    return sorted(_walk(root), key=lambda item: item.path if isinstance(item, Reject) else item)


def decode(data: bytes, path: str) -> tuple[str, str] | Reject:
    """(text, encoding) of raw bytes, BOM dropped; or a Reject saying why the bytes are not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError as err:
                return Reject(path, "undecodable", f"starts with a {encoding} byte-order mark but byte "
                              f"{data[len(bom) + err.start:len(bom) + err.start + 4]!r} is not {encoding}",
                              len(bom) + err.start)
            nul = text.find("\x00")
            if nul >= 0:
                return Reject(path, "nul_byte", f"a NUL character in {encoding} text: binary or corrupted; "
                              "re-save it as text", len(bom) + len(text[:nul].encode(encoding)))
            return text, encoding + ("-sig" if encoding == "utf-8" else "")
    for magic, what in _MAGIC.items():
        if data.startswith(magic) and (magic != b"RIFF" or data[8:12] in (b"WEBP", b"WAVE", b"AVI ")):
            return Reject(path, "binary", f"the file is {what}, not a text page", 0)
    nul = data.find(b"\x00")
    if nul >= 0:
        return Reject(path, "nul_byte", "a NUL byte in a file without a UTF-16/32 byte-order mark: "
                      "binary or corrupted; re-save it as text", nul)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        bad_at = err.start
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return Reject(path, "undecodable", f"not UTF-8 (byte {data[bad_at:bad_at + 4]!r}) and no other "
                      "encoding fits; re-save it as UTF-8", bad_at)
    return str(best), codecs.lookup(best.encoding).name


def read(root: Path, rel: str, max_bytes: int = MAX_BYTES) -> Source | Reject:
    """Read one input file into a Source, or reject it."""
    path = Path(root) / rel
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return Reject(rel, "not_a_file", "not a regular file (a pipe, socket or device): never opened")
        size = info.st_size
        if size > max_bytes:
            return Reject(rel, "too_large", f"{size} bytes, more than the {max_bytes}-byte bound for one "
                          "page; split it, or raise --max-bytes")
        data = path.read_bytes()
    except OSError as err:
        return Reject(rel, "unreadable", f"{err.strerror or err}")
    if not data:
        return Reject(rel, "empty", "the file is empty")
    decoded = decode(data, rel)
    if isinstance(decoded, Reject):
        return decoded
    text, encoding = decoded
    controls = _CONTROL.findall(text)
    if len(controls) > max(8, len(text) // 100):
        return Reject(rel, "binary", f"decodes as {encoding} but is full of control characters (the first "
                      f"at character {_CONTROL.search(text).start()}): not a text page")
    if not text.strip():
        return Reject(rel, "no_text", "the file holds only white space")
    return Source(rel, hashlib.sha256(data).hexdigest(), len(data), encoding, text)
