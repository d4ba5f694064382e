"""The lexicon (``builder.lexicon``): a page's words looked up once, then what each word stands for gathered."""

from __future__ import annotations

import numpy as np
import pytest

from builder.lexicon import Lexicon, Rows, Runs


def _values(word: str) -> bytes:
    """A word's run for the tests: as many values as its length modulo 3, each its length times ten plus k."""
    return b"".join((10 * len(word) + k).to_bytes(8, "little") for k in range(len(word) % 3))


def _row(words: list[str]) -> np.ndarray:
    return np.array([[len(w), w.count("a")] for w in words], dtype=np.int64).reshape(-1, 2)


PAGES = [["a bb ccc", "dddd"], ["bb  ee", ""], ["ccc a", "fffff gg"], [], ["x " * 30]]


@pytest.mark.parametrize(("pages", "limit", "limit_chars", "emptied"), [  # 9 words, 20 characters in all
    pytest.param(PAGES, 1000, 1000, False, id="all kept"),
    pytest.param(PAGES, 6, 1000, True, id="emptied when full of words"),
    pytest.param(PAGES, 1000, 12, True, id="emptied when full of characters"),
    pytest.param(PAGES, 1, 1, True, id="every page more than it keeps"),
    pytest.param(PAGES[::-1], 3, 1000, True, id="other order"),
])
def test_a_word_stands_for_the_same_values_whatever_came_before(pages: list[list[str]], limit: int,
                                                                limit_chars: int, emptied: bool) -> None:
    lexicon = Lexicon(limit, limit_chars)
    runs, rows = Runs(lexicon, _values), Rows(lexicon, 2, np.int64, _row)
    generations = set()
    for texts in pages:
        words = lexicon.words(texts)
        generations.add(words.generation)
        split = [w for t in texts for w in t.split(" ")]
        assert words.ends.tolist() == np.cumsum([len(t.split(" ")) for t in texts]).tolist()
        assert runs(words).tobytes() == b"".join(map(_values, split))
        assert rows(words).tolist() == _row(split).tolist()
        some = words.ids[::2]
        assert runs(words, some).tobytes() == b"".join(map(_values, split[::2]))
    assert (len(generations) > 1) == emptied


def test_words_looked_up_before_the_lexicon_was_emptied_are_refused() -> None:
    lexicon = Lexicon(4)
    runs = Runs(lexicon, _values)
    stale = lexicon.words(["a b c"])
    lexicon.words(["d e"])  # 5 words: it is emptied
    with pytest.raises(RuntimeError, match="emptied"):
        runs(stale)


@pytest.mark.parametrize("texts", [
    pytest.param([], id="no text"),
    pytest.param([""], id="one empty text: one empty word"),
    pytest.param(["word"], id="one word"),
    pytest.param(["a b", "", " c  d ", "a"], id="empty texts, spaces at the ends and doubled"),
    pytest.param(["\u4e2d\u6587\u6bb5\u843d", "x\u00a0y z"], id="a run without spaces; a no-break space is no space"),
])
def test_words_are_each_texts_split_on_spaces_in_turn(texts: list[str]) -> None:
    lexicon = Lexicon()
    lexicon.words(["c a"])  # words met before keep their numbers
    got = lexicon.words(texts)
    expected = [w for t in texts for w in t.split(" ")]
    assert [lexicon.word(int(n)) for n in got.ids] == expected
    assert got.ends.tolist() == np.cumsum([len(t.split(" ")) for t in texts]).tolist()


@pytest.mark.parametrize(("pages", "limit"), [
    pytest.param(PAGES, 1000, id="five pages, one empty, one without texts"),
    pytest.param([], 1000, id="no page"),
    pytest.param([[]], 1000, id="one page without texts"),
    pytest.param([["a a a", "a"], ["a"]], 1000, id="one word met again and again"),
    pytest.param(PAGES, 3, id="more distinct words than it keeps: all kept together"),
])
def test_pages_looked_up_together_are_each_pages_texts_split_on_spaces(pages: list[list[str]], limit: int) -> None:
    lexicon = Lexicon(limit)
    lexicon.words(["zz a"])  # words met before keep their numbers
    got = lexicon.words_of(pages)
    assert len(got) == len(pages)
    for texts, words in zip(pages, got):
        assert [lexicon.word(int(n)) for n in words.ids] == [w for t in texts for w in t.split(" ")]
        assert words.ends.tolist() == np.cumsum([len(t.split(" ")) for t in texts]).tolist()
        assert words.generation == lexicon.generation
