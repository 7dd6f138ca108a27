"""Benchmark: reference evaluator vs compiled matcher over the real sample.

Run ``python -m ops.bench.classify`` from the repository root. It loads the six formats and
every deck of the sample whose ``Tournament.Formats`` has definitions, times both evaluators
on one core (best of a few repeats, decks already parsed: classification only), checks that
they agree in both conflict modes, prints the label distribution per format and ends with
``key=value`` lines for scripts.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines.classify import reference
from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import load_all
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import ConflictMode, Detection, Method
from pipelines.classify.tournaments import iter_tournaments
from pipelines.core.settings_loader import get_settings

Deck = tuple[Sequence[tuple[str, int]], Sequence[tuple[str, int]]]


def pin_to_one_core() -> str:
    """Restrict the process to one CPU so the figures are single-core figures."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu{cpu}"
    return "unpinned"


def load_decks(
    data_dir: Path, definitions: dict[str, FormatDefinitions]
) -> tuple[dict[str, list[Deck]], int]:
    """Decks per format with definitions (file order), and the number of unreadable files."""
    errors: list[str] = []
    decks: dict[str, list[Deck]] = {name: [] for name in definitions}
    for _relative, tournament in iter_tournaments([data_dir / "tournaments"], errors):
        if tournament.format in definitions:
            decks[tournament.format].extend((d.main, d.side) for d in tournament.decks)
    return decks, len(errors)


def best_time(run: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` runs (least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def run_reference(
    definitions: dict[str, FormatDefinitions], decks: dict[str, list[Deck]], mode: ConflictMode
) -> dict[str, list[Detection]]:
    """Reference detections of every deck."""
    return {
        name: [reference.detect(main, side, definitions[name], mode) for main, side in items]
        for name, items in decks.items()
    }


def run_matcher(
    compiled: dict[str, CompiledFormat], decks: dict[str, list[Deck]]
) -> dict[str, list[Detection]]:
    """Matcher detections of every deck (batch API)."""
    return {name: compiled[name].detect_many(items) for name, items in decks.items()}


def fresh(compiled: dict[str, CompiledFormat]) -> None:
    # Clear the outcome caches so each repeat measures cold-cache work too.
    for matcher in compiled.values():
        matcher._cache.clear()


def distribution(
    name: str, simpler: list[Detection], none_mode: list[Detection], top: int
) -> list[str]:
    """Text lines: top labels (PreferSimpler), Unknown / fallback / Conflict rates."""
    n = len(simpler)
    if not n:
        return [f"{name}: no decks"]
    labels = Counter(d.display_name for d in simpler)
    methods = Counter(d.method for d in simpler)
    conflicts = sum(d.method is Method.CONFLICT for d in none_mode)
    lines = [
        f"{name}: {n} decks, {len(labels)} labels; unknown {methods[Method.UNKNOWN] / n:.1%}, "
        f"fallback {methods[Method.FALLBACK] / n:.1%}, "
        f"conflict (mode none) {conflicts / n:.1%}, "
        f"resolved by prefer-simpler {sum(len(d.candidates) > 1 for d in simpler) / n:.1%}"
    ]
    for label, count in labels.most_common(top):
        lines.append(f"    {count:5d}  {count / n:6.1%}  {label}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=get_settings().data_dir)
    parser.add_argument("--repeats", type=int, default=5, help="matcher repeats (best of)")
    parser.add_argument("--reference-repeats", type=int, default=2)
    parser.add_argument("--top", type=int, default=8, help="labels listed per format")
    args = parser.parse_args(argv)
    if not (args.data_dir / "tournaments").is_dir():
        print(f"no sample at {args.data_dir}", file=sys.stderr)
        return 2
    core = pin_to_one_core()

    start = time.perf_counter()
    definitions = load_all(args.data_dir / "formats")
    load_s = time.perf_counter() - start
    decks, unreadable = load_decks(args.data_dir, definitions)
    total = sum(len(v) for v in decks.values())
    start = time.perf_counter()
    simpler = {n: compile_format(d, ConflictMode.PREFER_SIMPLER) for n, d in definitions.items()}
    compile_s = time.perf_counter() - start
    none_mode = {n: m.with_mode(ConflictMode.NONE) for n, m in simpler.items()}

    mode = ConflictMode.PREFER_SIMPLER
    ref_s = best_time(lambda: run_reference(definitions, decks, mode), args.reference_repeats)

    def cold_matcher_run() -> None:
        fresh(simpler)
        run_matcher(simpler, decks)

    match_s = best_time(cold_matcher_run, args.repeats)

    agree = True
    results = {}
    for name_mode, compiled in (
        (ConflictMode.PREFER_SIMPLER, simpler),
        (ConflictMode.NONE, none_mode),
    ):
        expected = run_reference(definitions, decks, name_mode)
        got = run_matcher(compiled, decks)
        agree &= expected == got
        results[name_mode] = got

    print(f"formats: {', '.join(definitions)}; unreadable files skipped: {unreadable}")
    print("label distribution (mode prefer-simpler unless stated):")
    for name in definitions:
        lines = distribution(
            name,
            results[ConflictMode.PREFER_SIMPLER][name],
            results[ConflictMode.NONE][name],
            args.top,
        )
        print("\n".join(lines))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"decks={total}")
    print(f"formats={len(definitions)}")
    print(f"core={core}")
    print(f"definitions_load_ms={load_s * 1000:.0f}")
    print(f"compile_ms={compile_s * 1000:.0f}")
    print(f"reference_decks_per_s={total / ref_s:.0f}")
    print(f"matcher_decks_per_s={total / match_s:.0f}")
    print(f"speedup={ref_s / match_s:.1f}")
    print(f"agree={'true' if agree else 'false'}")
    print(f"peak_rss_mb={peak_mb:.0f}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
