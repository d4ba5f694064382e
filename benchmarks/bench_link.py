"""Time the linking stage on the NTREX dev set (gold paragraphs as input) and on the same corpus doubled.

The doubled corpus holds every page twice (the copy gets a fresh article id), so it has 2x the pages: with
blocking the time should grow about 2x, not 4x. The stages of ``builder.link.link`` are timed one by one;
also prints the link figures of the single run.

    python benchmarks/bench_link.py [GOLD.json]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builder.align import embed  # noqa: E402
from builder.evaluate import eval_links_records, format_report, records_from_gold  # noqa: E402
from builder.link import article_units, candidate_pairs, link_features, link_pair, screen_pairs  # noqa: E402
from builder.vectors import ensure  # noqa: E402

DEFAULT_GOLD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "ntrex-dev" / "gold.json"


def doubled(articles: list[dict], paragraphs: dict[str, list[dict]]) -> tuple[list[dict], dict[str, list[dict]]]:
    """Every article twice; the copy gets the original's id with its top bit flipped."""
    out_a, out_p = list(articles), dict(paragraphs)
    for a in articles:
        new = "a" + format(int(a["article_id"][1:], 16) ^ (1 << 63), "016x")
        out_a.append({**a, "article_id": new, "source_path": "copy/" + a["source_path"]})
        out_p[new] = [{**p, "article_id": new, "paragraph_id": f"{new}-p{p['position']}"}
                      for p in paragraphs[a["article_id"]]]
    return out_a, out_p


def timed(articles: list[dict], paragraphs: dict[str, list[dict]]) -> tuple[list[float], int, list[dict]]:
    """``link()``'s stages, timed one by one: keys and sketches (static vectors), blocking, the screen,
    encoder features of the articles of the pairs that pass, pair linking."""
    clock = [time.perf_counter()]
    features = {a["article_id"]: link_features(a, paragraphs[a["article_id"]]) for a in articles}
    keys = {aid: key for aid, (key, _) in features.items()}
    clock.append(time.perf_counter())
    candidates = list(candidate_pairs(list(keys.values())))
    clock.append(time.perf_counter())
    passed = screen_pairs(candidates, {aid: sketch for aid, (_, sketch) in features.items()})
    pairs = [pair for pair, ok in zip(candidates, passed) if ok]
    clock.append(time.perf_counter())
    by_id = {a["article_id"]: a for a in articles}
    feats = {x: article_units(by_id[x], paragraphs[x]) for x in sorted({x for pair in pairs for x in pair})}
    clock.append(time.perf_counter())
    links = [row for x, y in pairs
             for row in link_pair(keys[x], paragraphs[x], feats[x], keys[y], paragraphs[y], feats[y])]
    clock.append(time.perf_counter())
    return [b - a for a, b in zip(clock, clock[1:])], (len(candidates), len(pairs)), links


def main() -> None:
    gold_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_GOLD
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    articles, paragraphs = records_from_gold(gold)
    embed(["load the model outside the timings"])
    ensure()  # and the static table
    report = []
    for name, (arts, paras) in (("NTREX dev", (articles, paragraphs)), ("doubled", doubled(articles, paragraphs))):
        stages, pairs, links = timed(arts, paras)
        report.append(sum(stages))
        if name == "NTREX dev":
            print(format_report(eval_links_records(gold, arts, [p for ps in paras.values() for p in ps], links)))
        print(f"{name}: {len(arts)} pages, {sum(stages):.1f} s (keys {stages[0]:.1f}, blocking {stages[1]:.2f}, "
              f"screen {stages[2]:.2f}, encoder {stages[3]:.1f}, pairs {stages[4]:.1f}); {pairs[0]} candidate pairs, "
              f"{pairs[1]} through the screen, {len(links)} links")
    print(f"growth ratio for 2x pages: {report[1] / report[0]:.2f}x")
    print(f"rerun: python benchmarks/bench_link.py {gold_path}")


if __name__ == "__main__":
    main()
