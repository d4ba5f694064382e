"""Blocking's growth with the corpus, on synthetic blocking keys (no pages, no builds).

Blocking (``builder.link.candidate_batches``) runs in the driver over the keys of the whole corpus. A dated
page meets the pages dated within ``WINDOW`` days of it (so its time grows with the pages a day, and the keys
here span one year whatever their number); an undated one meets its nearest by document vector in each other
language, among every page of a language of at most ``EXACT_UP_TO`` pages, else among the leaves of
``builder.nearest``'s trees. This prints, for N and 4N keys, with every page dated and
with a share undated: the seconds, the process's peak memory, the pairs found, and the growth factor of each
(4N against N; the issue's target for a build is 4.6x). Each case runs in a process of its own, so that its
peak memory is its own, with one BLAS thread as in a build. The keys themselves grow with the corpus (the
driver holds them all), so the peak memory does too.

    python benchmarks/bench_blocking.py [--keys 10000] [--undated 0.2]

The keys: 10 languages in turn, a random unit vector each (float16, as the builder keeps them), 20 random
anchors of 64 bits drawn from 10 per key (so most are rare), and a day within a year, or none.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["en", "fr", "de", "zh", "ja", "ko", "es", "it", "pt", "ru"]
TARGET_GROWTH = 4.6


def one(keys: int, undated: float, seed: int) -> dict:
    """Blocking over ``keys`` synthetic keys, a share ``undated`` of them without a day, in this process."""
    import resource

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from builder.executors import one_blas_thread
    from builder.link import LinkKey, candidate_batches

    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(keys, 128))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)
    made = [LinkKey(f"a{i:08d}", LANGS[i % len(LANGS)],
                    None if rng.random() < undated else 18000 + int(rng.integers(0, 365)),
                    np.sort(rng.integers(0, 10 * keys, 20).astype(np.uint64)), vectors[i], 3, (0, 0))
            for i in range(keys)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with one_blas_thread():  # as the build runs it
        started = time.perf_counter()
        pairs = sum(len(batch) for batch in candidate_batches(made))
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"keys": keys, "undated": undated, "pairs": pairs, "seconds": seconds,
            "peak_mb": peak / 1024, "keys_mb": before / 1024}


def run(keys: int, undated: float, seed: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(keys), str(undated), str(seed)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=10_000, help="the smaller corpus, in keys (the larger: 4 times)")
    ap.add_argument("--undated", type=float, default=0.2, help="share of undated keys in the second case")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), float(args.one[1]), int(args.one[2]))))
        return 0
    print(f"bench_blocking: {args.keys} and {4 * args.keys} synthetic keys, {len(LANGS)} languages")
    print(f"  {'case':<22} {'keys':>8} {'pairs':>10} {'s':>8} {'peak MB':>8}   (the keys alone: MB before blocking)")
    fails = 0
    for undated in (0.0, args.undated):
        case = "every page dated" if undated == 0 else f"{undated:.0%} undated"
        small, large = run(args.keys, undated, args.seed), run(4 * args.keys, undated, args.seed)
        for r in (small, large):
            print(f"  {case:<22} {r['keys']:>8} {r['pairs']:>10} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f}"
                  f"   ({r['keys_mb']:.0f})")
        growth = large["seconds"] / small["seconds"]
        ok = growth <= TARGET_GROWTH
        fails += not ok
        print(f"  {case}: time 4x / time 1x {growth:.2f}x (target <= {TARGET_GROWTH}x: {'PASS' if ok else 'FAIL'}); "
              f"peak memory {large['peak_mb'] / small['peak_mb']:.2f}x")
    print(f"rerun: python benchmarks/bench_blocking.py --keys {args.keys} --undated {args.undated} --seed {args.seed}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
