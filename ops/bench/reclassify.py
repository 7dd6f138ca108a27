"""End-to-end classification benchmark: ``python -m ops.bench.reclassify``.

Ingests the real sample into a scratch database, then measures, reading from and writing to
PostgreSQL: labelling every deck of the six formats for the first time, and full
reclassifications of every format (a new definitions version, chunked, then the atomic
switch; the median of three, with min and max). Printed beside it, measured in the same
run: the in-memory matcher alone over the same decks, i.e. the part that is not database
work.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

from ops.bench.common import fresh_database, headline, peak_rss_mb, timed
from pipelines.classify.definitions_loader import load_all
from pipelines.classify.labels import classify_new_decks
from pipelines.classify.matcher import compile_format
from pipelines.classify.reclassify import reclassify_formats
from pipelines.core import db
from pipelines.core.settings_loader import get_settings
from pipelines.ingest.cache import ingest_cache

RUNS = 3  # reclassifications, median reported: this machine's speed varies minute to minute


def matcher_only(dsn: str, formats_dir: Path) -> tuple[int, float]:
    """Decks and seconds for detection alone over decks already in memory."""
    definitions = load_all(formats_dir)
    with db.connect(dsn) as conn:
        names: dict[int, str] = dict(conn.execute("SELECT id, name FROM cards").fetchall())
        rows = conn.execute(
            "SELECT t.format, d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts "
            "FROM decks d JOIN tournaments t ON t.id = d.tournament_id"
        ).fetchall()
    compiled = {name: compile_format(fmt) for name, fmt in definitions.items()}
    decks = [
        (
            compiled[f],
            [(names[i], n) for i, n in zip(mi, mc, strict=True)],
            [(names[i], n) for i, n in zip(si, sc, strict=True)],
        )
        for f, mi, mc, si, sc in rows
        if f in compiled
    ]
    _, seconds = timed(lambda: [m.detect(main, side) for m, main, side in decks])
    return len(decks), seconds


def main() -> None:
    settings = get_settings()
    formats_dir = settings.real_formats_dir
    if not settings.tournaments_dir.is_dir() or not formats_dir.is_dir():
        raise SystemExit(f"real sample not found under {settings.data_dir}")
    dsn = fresh_database("manalytics_bench_classify")
    ingest_cache(dsn, settings.tournaments_dir)
    # Private copy: reclassification needs a changed folder (a new version).
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "Formats"
        shutil.copytree(formats_dir, local)
        labelled, first_s = timed(lambda: classify_new_decks(dsn, local))
        first = sum(labelled.values())
        # All formats' chunks shared by two processes, as two Celery workers would; each
        # round is a new version of every format (same rules, new content hash).
        rates = []
        for round_no in range(1, RUNS + 1):
            for fmt in labelled:
                metas = local / fmt / "metas.json"
                metas.write_text(metas.read_text() + "\n" * round_no)
            runs, again_s = timed(lambda: reclassify_formats(dsn, local, list(labelled)))
            again = sum(r.decks_total for r in runs)
            rates.append(again / again_s)
        n, matcher_s = matcher_only(dsn, local)
    rate = statistics.median(rates)
    print(f"first labelling   {first:7d} decks  {first_s:6.2f} s  {first / first_s:9,.0f} decks/s")
    spread = f"(median of {RUNS}: {min(rates):,.0f} - {max(rates):,.0f})"
    line = f"reclassification  {again:7d} decks  {again / rate:6.2f} s  {rate:9,.0f} decks/s"
    print(line, spread)
    print(f"matcher alone     {n:7d} decks  {matcher_s:6.2f} s  {n / matcher_s:9,.0f} decks/s")
    headline(
        {
            "first_label_decks_per_s": round(first / first_s),
            "reclassify_decks_per_s": round(rate),
            "reclassify_decks_per_s_min": round(min(rates)),
            "reclassify_decks_per_s_max": round(max(rates)),
            "matcher_only_decks_per_s": round(n / matcher_s),
            "decks": again,
            "peak_rss_mb": round(peak_rss_mb()),
        }
    )


if __name__ == "__main__":
    main()
