"""Benchmark: archetype discovery on the real sample (issue 17).

Run ``python -m ops.bench.discovery`` from the repository root (one core). Four parts:

1. **Similarity**: exact sparse cosine top-10 (``pipelines.discovery.neighbours``) against
   MinHash LSH Forest (datasketch, 128 permutations) on the largest format: build + query
   time and the LSH's recall of the exact top-10.
2. **Discovery over the whole sample**: every format's decks as one window, definitions as
   shipped: classify, cluster, draft and verify every rule. Target < 30 s.
3. **Leave-one-out**: for each of the 10 most played archetypes (definition files) of each
   format, remove the file, reclassify in memory with the matcher, run discovery on the
   window, and take the cluster that best matches (F1) the removed archetype's decks: its
   precision and recall; then add the drafted rule back and measure the decks it labels
   against the removed archetype's (rule precision / recall; agreement = Jaccard).
   Targets over the 60 cases: median recall >= 0.8, median precision >= 0.9.
4. Headline ``key=value`` lines at the end.

``--method hdbscan`` runs the same evaluation with HDBSCAN instead of average linkage.
``--api`` instead ingests the sample into a scratch database (``manalytics_bench_discovery``
on the benchmark server), runs discovery for every format (neighbour lists of every deck)
and times ``GET /api/v1/decks/{id}/similar`` for 300 random decks through the app — the
server time of each first (uncached) request, from its ``Server-Timing`` header; target
< 50 ms. Needs ``REDIS_URL`` (the app's cache and limiter).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ops.bench.classify import pin_to_one_core
from ops.bench.common import scratch_redis_url
from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import load_all
from pipelines.classify.result import Method
from pipelines.classify.tournaments import iter_tournaments
from pipelines.core.settings_loader import get_settings
from pipelines.discovery.clusters import METHODS
from pipelines.discovery.engine import Suggestion, discover, evaluate
from pipelines.discovery.neighbours import top_k
from pipelines.discovery.vectors import Deck, build_vectors
from pipelines.ingest.normalize import normalize_card_name

TOP = 10


def load(data_dir: Path) -> tuple[dict[str, FormatDefinitions], dict[str, list[Deck]]]:
    definitions = load_all(data_dir / "formats")
    decks: dict[str, list[Deck]] = {name: [] for name in definitions}
    next_id = 0
    for _relative, tournament in iter_tournaments([data_dir / "tournaments"]):
        if tournament.format in definitions:
            for deck in tournament.decks:
                next_id += 1
                decks[tournament.format].append(Deck(next_id, deck.main, deck.side))
    return definitions, decks


def canonicaliser(fmt: FormatDefinitions) -> Callable[[str], str]:
    """``cards.canonical_name`` as ingestion computes it, memoised."""
    known = set(fmt.lands) | set(fmt.nonlands)
    cache: dict[str, str] = {}

    def canonical(name: str) -> str:
        found = cache.get(name)
        if found is None:
            found = cache[name] = normalize_card_name(name, known)
        return found

    return canonical


def similarity(decks: list[Deck], canonical: Callable[[str], str]) -> dict[str, float]:
    """Exact sparse top-10 vs MinHash LSH Forest on one format's decks."""
    from datasketch import MinHash, MinHashLSHForest

    start = time.perf_counter()
    vectors = build_vectors(decks, canonical)
    exact = top_k(vectors, TOP)
    exact_s = time.perf_counter() - start
    truth: dict[int, set[int]] = {}
    for n in exact:
        truth.setdefault(n.deck_id, set()).add(n.neighbour_id)
    start = time.perf_counter()
    forest = MinHashLSHForest(num_perm=128)
    hashes = {}
    for deck in decks:
        m = MinHash(num_perm=128)
        for name, _count in deck.main:
            m.update(canonical(name).encode())
        hashes[deck.id] = m
        forest.add(deck.id, m)
    forest.index()
    found = {d.id: set(forest.query(hashes[d.id], TOP + 1)) - {d.id} for d in decks}
    lsh_s = time.perf_counter() - start
    recall = statistics.mean(
        len(found[i] & truth.get(i, set())) / max(len(truth.get(i, ())), 1) for i in found
    )
    return {"exact_s": exact_s, "lsh_s": lsh_s, "lsh_recall": recall}


def leave_one_out(
    fmt: FormatDefinitions, decks: list[Deck], canonical: Callable[[str], str], method: str
) -> list[dict[str, float | str | int]]:
    full = discover(fmt, decks, canonical, method=method, verify=False)
    played = Counter(label.file for label in full.labels.values() if label.method is Method.RULE)
    cases = []
    for file, size in played.most_common(TOP):
        removed = {i for i, label in full.labels.items() if label.file == file}
        without = dataclasses.replace(
            fmt, archetypes=tuple(a for a in fmt.archetypes if a.file != file)
        )
        result = discover(without, decks, canonical, method=method, verify=False)
        case: dict[str, float | str | int] = {"file": str(file), "decks": size}
        best: tuple[float, float, float, Suggestion | None] = (0.0, 0.0, 0.0, None)
        for s in result.suggestions:
            hits = len(removed.intersection(s.members))
            if not hits:
                continue
            p, r = hits / len(s.members), hits / len(removed)
            f1 = 2 * p * r / (p + r)
            if f1 > best[0]:
                best = (f1, p, r, s)
        _f1, precision, recall, chosen = best
        case |= {"precision": precision, "recall": recall}
        rule_p = rule_r = agreement = 0.0
        conditions = 0
        if chosen is not None and chosen.draft.conditions:
            rule_p, rule_r, _moves = evaluate(
                without, chosen.definition, decks, result.labels, removed
            )
            taken = round(rule_r * len(removed) / rule_p) if rule_p else 0
            hits = round(rule_r * len(removed))
            union = len(removed) + taken - hits
            agreement = hits / union if union else 0.0
            conditions = len(chosen.draft.conditions)
        case |= {"rule_precision": rule_p, "rule_recall": rule_r, "agreement": agreement}
        case |= {"conditions": conditions, "cluster": chosen.name if chosen else "-"}
        cases.append(case)
    return cases


def api_timing(data_dir: Path, requests: int = 300) -> int:
    """Server time of ``/decks/{id}/similar`` on the sample (see the module docstring)."""
    import random
    from dataclasses import replace

    from api import close_app, create_app
    from ops.bench.common import fresh_database
    from pipelines.classify.labels import classify_new_decks
    from pipelines.core.db import connect
    from pipelines.core.settings_loader import load_settings
    from pipelines.discovery.store import discover_all
    from pipelines.ingest.cache import ingest_cache
    from pipelines.reads.decks import SIMILAR_SQL as _SIMILAR_SQL

    redis_url = scratch_redis_url()
    dsn = fresh_database("manalytics_bench_discovery")
    formats = data_dir / "formats"
    start = time.perf_counter()
    ingest_cache(dsn, data_dir / "tournaments")
    classify_new_decks(dsn, formats)
    prepare_s = time.perf_counter() - start
    start = time.perf_counter()
    discover_all(dsn, formats, ("all",))
    discover_s = time.perf_counter() - start
    with connect(dsn) as conn:
        ids = [r[0] for r in conn.execute("SELECT DISTINCT deck_id FROM deck_neighbours")]
    base = load_settings({"MANALYTICS_ENV": "test", "MANALYTICS_FORMATS_DIR": str(formats)})
    app_settings = replace(base, database_url=dsn, redis_url=redis_url)
    app = create_app({"MANALYTICS_SETTINGS": app_settings, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    chosen = random.Random(17).sample(ids, min(requests, len(ids)))
    timings, baseline = [], []
    for deck_id in chosen:
        answer = client.get(f"/api/v1/decks/{deck_id}/similar")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        timings.append(float(answer.headers["Server-Timing"].split("dur=")[1]))
        # Baseline in the same run: the cheapest route (no database, no cache).
        ping = client.get("/api/v1/ping")
        baseline.append(float(ping.headers["Server-Timing"].split("dur=")[1]))
    close_app(app)
    with connect(dsn) as conn:
        plan = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + _SIMILAR_SQL, {"id": chosen[0], "k": 10}
        ).fetchone()
    sql_ms = float(plan[0][0]["Execution Time"]) if plan else float("nan")
    timings.sort()
    baseline.sort()
    p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
    print(f"{len(ids)} decks with neighbour lists; ingest + classify {prepare_s:.0f} s, ")
    print(f"discovery (all formats, window all, every neighbour list) {discover_s:.1f} s")
    print(f"GET /decks/{{id}}/similar, {len(timings)} uncached requests: server time ms")
    print(f"similar_p50_ms={p50:.2f}")
    print(f"similar_p95_ms={p95:.2f}")
    print(f"similar_max_ms={timings[-1]:.2f}")
    print(f"similar_sql_ms={sql_ms:.2f}")
    print(f"baseline_ping_p50_ms={baseline[len(baseline) // 2]:.2f}")
    print(f"discovery_db_all_formats_s={discover_s:.1f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=get_settings().data_dir)
    parser.add_argument("--method", choices=METHODS, default="agglomerative")
    parser.add_argument("--skip-loo", action="store_true", help="timings only")
    parser.add_argument("--api", action="store_true", help="time GET /decks/{id}/similar")
    args = parser.parse_args(argv)
    if not (args.data_dir / "tournaments").is_dir():
        print(f"no sample at {args.data_dir}", file=sys.stderr)
        return 2
    if args.api:
        return api_timing(args.data_dir)
    core = pin_to_one_core()
    definitions, decks = load(args.data_dir)
    canon = {name: canonicaliser(fmt) for name, fmt in definitions.items()}
    total = sum(len(d) for d in decks.values())
    print(f"{total} decks in {len(decks)} formats; one core ({core}); method {args.method}")

    largest = max(decks, key=lambda f: len(decks[f]))
    sim = similarity(decks[largest], canon[largest])
    print(
        f"\nsimilarity on {largest} ({len(decks[largest])} decks, top-{TOP} of every deck): "
        f"exact sparse {sim['exact_s']:.2f} s; MinHash LSH Forest {sim['lsh_s']:.2f} s "
        f"recalling {sim['lsh_recall']:.2f} of the exact neighbours"
    )

    start = time.perf_counter()
    clusters = 0
    for name, fmt in definitions.items():
        clusters += len(discover(fmt, decks[name], canon[name], method=args.method).suggestions)
    whole_s = time.perf_counter() - start
    print(
        f"\ndiscovery over the whole sample: {whole_s:.1f} s, {clusters} clusters (target < 30 s)"
    )

    if args.skip_loo:
        print(f"discovery_whole_sample_s={whole_s:.2f}")
        return 0
    print("\nleave-one-out (10 most played archetypes per format):")
    header = "format    median P median R  rule P  rule R  agree"
    rows: list[tuple[str, list[float]]] = []
    everything: list[dict[str, float | str | int]] = []
    for name, fmt in definitions.items():
        cases = leave_one_out(fmt, decks[name], canon[name], args.method)
        everything += cases
        for c in cases:
            print(
                f"  {name:9s} {c['file']!s:28.28s} n={c['decks']!s:>4s} P={c['precision']:.2f} "
                f"R={c['recall']:.2f} rule P={c['rule_precision']:.2f} R={c['rule_recall']:.2f} "
                f"conditions={c['conditions']}  [{c['cluster']}]"
            )
        rows.append((name, [_median(cases, k) for k in _KEYS]))
    print("\n" + header)
    for name, values in rows:
        print(_row(name, values))
    overall = [_median(everything, k) for k in _KEYS]
    print(_row("all", overall))
    print()
    print(f"cases={len(everything)}")
    print(f"method={args.method}")
    print(f"median_precision={overall[0]:.3f}")
    print(f"median_recall={overall[1]:.3f}")
    print(f"median_rule_precision={overall[2]:.3f}")
    print(f"median_rule_recall={overall[3]:.3f}")
    print(f"median_rule_agreement={overall[4]:.3f}")
    print(f"discovery_whole_sample_s={whole_s:.2f}")
    print(f"similarity_exact_s={sim['exact_s']:.2f}")
    print(f"similarity_lsh_s={sim['lsh_s']:.2f}")
    print(f"similarity_lsh_recall={sim['lsh_recall']:.3f}")
    return 0


_KEYS = ("precision", "recall", "rule_precision", "rule_recall", "agreement")
_WIDTHS = (8, 8, 7, 7, 6)


def _row(name: str, values: list[float]) -> str:
    cells = (f"{v:>{w}.2f}" for v, w in zip(values, _WIDTHS, strict=True))
    return f"{name:9s} " + " ".join(cells)


def _median(cases: list[dict[str, float | str | int]], key: str) -> float:
    return float(statistics.median(float(c[key]) for c in cases)) if cases else 0.0


if __name__ == "__main__":
    raise SystemExit(main())
