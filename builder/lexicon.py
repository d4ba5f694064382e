"""A process's lexicon: each distinct word of the pages it reads gets a number once, and what the
per-document keys need of a word is worked out once per process, as arrays.

A word is a space-separated run (``text.split(" ")``): the tokenizer never makes a piece across a space, no
MinHash token holds one, and no blocking anchor spans one but an @handle written "@ name". A page's words are
looked up once, with those of the pages processed beside it (``Lexicon.words_of``: split and told apart in
pyarrow, then one dict lookup per distinct word); each key then gathers what it needs of them with numpy
(``Runs``: a run of uint64 digests per word; ``Rows``: a fixed-width row per word), instead of working word by
word in Python. Most words of a page were on earlier pages, so most are worked out once per worker.

Memory is bounded: the lexicon is emptied when it holds ``LIMIT`` words or ``LIMIT_CHARS`` characters (pages
looked up together with more get them all).
What a word stands for never depends on what was met before it, so the keys are the same bits whatever
pages a worker read first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

LIMIT = 200_000  # words a process keeps
LIMIT_CHARS = 8_000_000  # and characters of them (a run of Chinese is one word, often of hundreds)


@dataclass(frozen=True)
class Words:
    """Texts as numbers of the lexicon's words; valid until the lexicon is next emptied."""

    ids: np.ndarray  # int64: each text's words, in turn
    ends: np.ndarray  # int64: where each text's words end in ``ids``
    generation: int  # the lexicon's, when they were looked up

    def upto(self, texts: int) -> np.ndarray:
        """The words of the first ``texts`` texts."""
        return self.ids[:int(self.ends[texts - 1])] if texts else self.ids[:0]


class _Ids(dict):
    """word -> its number; a word asked for the first time gets the next one and is listed in ``words``."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.chars = 0

    def __missing__(self, word: str) -> int:
        number = self[word] = len(self.words)
        self.words.append(word)
        self.chars += len(word)
        return number


def arrow_values(array, dtype: type) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The values of a pyarrow array of fixed-width numbers without nulls, as a numpy view of its buffer
    (``to_numpy`` would import pandas: 0.15 s in a process)."""
    return np.frombuffer(array.buffers()[1], dtype)[array.offset:array.offset + len(array)]


class Lexicon:
    """The words met so far, numbered in the order met; emptied when it holds ``limit`` words or
    ``limit_chars`` characters (a generation ends: the ``Words`` looked up before are stale)."""

    def __init__(self, limit: int = LIMIT, limit_chars: int = LIMIT_CHARS) -> None:
        self.limit, self.limit_chars = limit, limit_chars
        self.generation = 0
        self._ids = _Ids()

    def clear(self) -> None:
        """Forget every word (``Words`` looked up before are no longer valid)."""
        self._ids = _Ids()
        self.generation += 1

    @property
    def size(self) -> int:
        return len(self._ids.words)

    def word(self, number: int) -> str:
        return self._ids.words[number]

    def new_since(self, number: int) -> list[str]:
        """The words numbered ``number`` and after."""
        return self._ids.words[number:]

    def words(self, texts: Sequence[str]) -> Words:
        """The texts' words, numbered (new words get the next numbers)."""
        return self.words_of([texts])[0]

    def words_of(self, pages: Sequence[Sequence[str]]) -> list[Words]:
        """Each page's texts' words, numbered (new words get the next numbers, in the order met), for many pages
        at once: the words are split and told apart in pyarrow, so that only each distinct word of the pages is
        looked up here, not each occurrence (some 3 times faster than looking each word up)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        texts = [t for page in pages for t in page]
        counts = np.fromiter((t.count(" ") + 1 for t in texts), dtype=np.int64, count=len(texts))
        # the texts' words in turn are the words of the texts joined by spaces: one Arrow string, built from
        # its bytes (``pa.array`` on Python objects would import pandas: 0.15 s in a worker)
        data = " ".join(texts).encode()
        joined = pa.LargeStringArray.from_buffers(1 if texts else 0, pa.py_buffer(np.array([0, len(data)], np.int64)),
                                                  pa.py_buffer(data))
        found = pc.dictionary_encode(pc.split_pattern(joined, " ").values)
        distinct = found.dictionary.to_pylist()  # in the order met
        # full: start again (pages with more get them all)
        if self.size and (self.size + len(distinct) > self.limit
                          or self._ids.chars + sum(map(len, distinct)) > self.limit_chars):
            self.clear()
        number = np.fromiter(map(self._ids.__getitem__, distinct), dtype=np.int64, count=len(distinct))
        ids = number[arrow_values(found.indices, np.int32)]
        out, first, at = [], 0, 0
        for page in pages:
            ends = np.cumsum(counts[at:at + len(page)])
            last = first + (int(ends[-1]) if len(ends) else 0)
            out.append(Words(ids[first:last], ends, self.generation))
            first, at = last, at + len(page)
        return out


class _Feature:
    """Something worked out per word of a lexicon, kept for its words so far; filled when first gathered."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._generation = lexicon.generation
        self._filled = 0  # words worked out

    def _fill(self, words: Words) -> None:
        lexicon = self.lexicon
        if words.generation != lexicon.generation:
            raise RuntimeError("words looked up before the lexicon was emptied")  # a bug, not an input's fault
        if self._generation != lexicon.generation:
            self._generation, self._filled = lexicon.generation, 0
            self._reset()
        if self._filled < lexicon.size:
            self._add(self._filled, lexicon.new_since(self._filled))
            self._filled = lexicon.size

    def _reset(self) -> None:
        raise NotImplementedError

    def _add(self, first: int, new: list[str]) -> None:
        raise NotImplementedError


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with room for ``size`` items along its first axis (doubling: amortized copies)."""
    if size <= len(array):
        return array
    grown = np.zeros((max(size, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    grown[:len(array)] = array
    return grown


class Runs(_Feature):
    """Per word, a run of uint64 values: ``compute(word)`` gives their little-endian bytes (8 per value)."""

    def __init__(self, lexicon: Lexicon, compute: Callable[[str], bytes]) -> None:
        super().__init__(lexicon)
        self._compute = compute
        self._reset()

    def _reset(self) -> None:
        self._values = np.zeros(1 << 12, dtype=np.uint64)
        self._used = 0
        self._start = np.zeros(1 << 10, dtype=np.int64)
        self._count = np.zeros(1 << 10, dtype=np.int64)

    def _add(self, first: int, new: list[str]) -> None:
        found = [self._compute(word) for word in new]
        values = np.frombuffer(b"".join(found), dtype="<u8")
        counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found)) // 8
        end = first + len(new)
        self._start, self._count = _grown(self._start, end), _grown(self._count, end)
        self._values = _grown(self._values, self._used + len(values))
        self._values[self._used:self._used + len(values)] = values
        self._count[first:end] = counts
        self._start[first:end] = self._used + np.cumsum(counts) - counts
        self._used += len(values)

    def __call__(self, words: Words, ids: np.ndarray | None = None) -> np.ndarray:
        """The runs of ``ids`` (by default all the words), one after another."""
        self._fill(words)
        ids = words.ids if ids is None else ids
        counts = self._count[ids]
        ends = np.cumsum(counts)
        at = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
        return self._values[at + np.repeat(self._start[ids] - (ends - counts), counts)]


class Rows(_Feature):
    """Per word, a row of ``width`` values of ``dtype``: ``compute(words)`` gives the rows of a list of words."""

    def __init__(self, lexicon: Lexicon, width: int, dtype: type, compute: Callable[[list[str]], np.ndarray]) -> None:
        super().__init__(lexicon)
        self._width, self._dtype, self._compute = width, dtype, compute
        self._reset()

    def _reset(self) -> None:
        # room for a full lexicon: zeros that no word has touched yet take no memory
        self._rows = np.zeros((self.lexicon.limit, self._width), dtype=self._dtype)

    def _add(self, first: int, new: list[str]) -> None:
        self._rows = _grown(self._rows, first + len(new))
        self._rows[first:first + len(new)] = self._compute(new)

    def __call__(self, words: Words, ids: np.ndarray | None = None) -> np.ndarray:
        """The rows of ``ids`` (by default all the words), in order."""
        self._fill(words)
        return np.take(self._rows, words.ids if ids is None else ids, axis=0)


LEXICON = Lexicon()  # the process's
