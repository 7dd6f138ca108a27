"""Demo and scale data generator: tournaments in the decklist-cache JSON format.

``generate(out_dir, decks, seed)`` writes ``out_dir/<Source>/<yyyy>/<mm>/<dd>/<name>.json``
files that look like what the reference scrapers write (DOMAIN.md §2), per source:

* **MTGO** challenges (``<Fmt> Challenge 32/64``): 32 published decks in playoff placement order
  with ``"Nth Place"`` results (MTGO ordinals: ``21th``, ``22th`` …), the Top-8 bracket as
  ``Quarterfinals``/``Semifinals``/``Finals`` (winner first), 32 standings whose ``Points`` are
  Swiss-only while ``Wins``/``Losses`` include playoff matches and ``Draws`` is always 0.
  MTGO leagues (``<Fmt> League``): ``5-0`` decks, empty ``Rounds`` and ``Standings``, league id
  glued to the date in the file name, occasionally the same player listed twice.
* **MTGmelee**: every Swiss round ``Round N`` plus a Top-8 cut, standings for every player
  (including players without a published list), byes as ``Player2 "-"``, draws listed twice
  (once from each player's history) when both players published, matches between two
  players without lists absent; ``"2st Place"``/``"3st Place"`` ordinals; ``Deck.Date`` null.
* **CardsRealm** (Pauper only): ``Round N`` for Swiss and top cut alike, results not
  winner-ordered, byes as ``Player2 ""``, standings only for players with a list and counting
  Swiss rounds only; tie-breakers with the float noise of ``percent / 100``.

Everything is drawn from one ``random.Random(seed)``: the same seed gives byte-identical files.
Events are produced one at a time and written immediately, so memory stays flat whatever the
deck count (the scale benchmark writes ~170,000 decks).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import orjson

from pipelines.demo.mtgo import MtgoEvents
from pipelines.demo.paper import PaperEvents
from pipelines.demo.state import (
    ARCHIVE_MIX,
    DEMO_MIX,
    SOURCES,
    GeneratedEvent,
    Mix,
    matchup_logits,
    melee_ordinal,
    mtgo_ordinal,
    slugify,
)

__all__ = [
    "ARCHIVE_MIX",
    "DEFAULT_DAYS",
    "DEFAULT_START",
    "DEMO_MIX",
    "SCALE_DECKS",
    "SOURCES",
    "GeneratedEvent",
    "GenerationSummary",
    "Mix",
    "dumps_event",
    "generate",
    "iter_events",
    "matchup_logits",
    "melee_ordinal",
    "mtgo_ordinal",
    "slugify",
]

DEFAULT_START = date(2025, 1, 6)  # fixed (not "today") so a seed always gives the same files
DEFAULT_DAYS = 28
# Ten times the real sample (16,784 decks in shared/data/tournaments), for the scale benchmark.
SCALE_DECKS = 170_000


@dataclass(slots=True)
class GenerationSummary:
    """What a ``generate`` run wrote."""

    out_dir: Path
    seed: int
    files: int = 0
    decks: int = 0
    matches: int = 0
    seconds: float = 0.0
    events_by_source: Counter[str] = field(default_factory=Counter)
    decks_by_format: Counter[str] = field(default_factory=Counter)
    # format -> intended label -> decks (labels as in pipelines.demo.catalog)
    archetypes: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def decks_per_second(self) -> float:
        return self.decks / self.seconds if self.seconds > 0 else 0.0

    def add(self, event: GeneratedEvent) -> None:
        """Account for one written event."""
        self.files += 1
        self.decks += len(event.intended)
        self.matches += event.matches
        self.events_by_source[event.source] += 1
        self.decks_by_format[event.format] += len(event.intended)
        self.archetypes.setdefault(event.format, Counter()).update(event.intended)

    def to_text(self) -> str:
        """Human-readable report (what the CLI prints)."""
        lines = [
            f"wrote {self.files} files, {self.decks} decks, {self.matches} matches "
            f"to {self.out_dir} in {self.seconds:.2f} s ({self.decks_per_second:,.0f} decks/s)",
            "events by source: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.events_by_source.items())),
        ]
        for fmt in sorted(self.archetypes):
            total = self.decks_by_format[fmt]
            mix = ", ".join(
                f"{label} {100 * count / total:.1f}%"
                for label, count in self.archetypes[fmt].most_common()
            )
            lines.append(f"{fmt} ({total} decks): {mix}")
        return "\n".join(lines)


class _Generator(MtgoEvents, PaperEvents):
    """One run: the shared state, every source's builders, the events in date order."""

    def events(self, decks: int) -> Iterator[GeneratedEvent]:
        """Generate the planned events in date order."""
        planned = self.plan(decks)
        count = len(planned)
        builders = {
            "challenge32": self._challenge,
            "challenge64": self._challenge,
            "league": self._league,
            "melee": self._melee,
            "cardsrealm": self._cardsrealm,
        }
        for index, item in enumerate(planned):
            day = self.start + timedelta(days=index * self.days // count)
            yield builders[item.kind](item, day)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def iter_events(
    decks: int,
    seed: int,
    start: date | None = None,
    days: int = DEFAULT_DAYS,
    sources: Sequence[str] = SOURCES,
    mix: Mix = DEMO_MIX,
) -> Iterator[GeneratedEvent]:
    """Yield the events ``generate`` would write, without touching the disk.

    Useful for tests and for loaders that want the objects directly; ``intended`` gives each
    deck's catalog label (what the demo definitions should classify it as).
    """
    if decks < 0:
        raise ValueError("decks must be >= 0")
    generator = _Generator(seed, start or DEFAULT_START, days, sources, mix)
    return generator.events(decks)


def dumps_event(event: GeneratedEvent, indent: bool = True) -> bytes:
    """Serialise like the reference scraper: UTF-8, 2-space indent, key order as built.

    ``indent=False`` writes the same JSON on one line (about half the bytes), for benchmarks
    where disk throughput rather than fidelity to the scraper's layout matters.
    """
    return orjson.dumps(event.payload, option=orjson.OPT_INDENT_2 if indent else None)


def generate(
    out_dir: Path,
    decks: int,
    seed: int,
    start: date | None = None,
    days: int = DEFAULT_DAYS,
    sources: Sequence[str] = SOURCES,
    indent: bool = True,
    mix: Mix = DEMO_MIX,
) -> GenerationSummary:
    """Write ``decks`` decks worth of tournaments under ``out_dir`` (``<Source>/yyyy/mm/dd``).

    Deterministic: the same arguments produce byte-identical files. Existing files with the
    same names are overwritten; other files in ``out_dir`` are left alone. ``indent=False``
    writes single-line JSON (same content, about half the bytes).
    """
    out_dir = Path(out_dir)
    summary = GenerationSummary(out_dir=out_dir, seed=seed)
    began = time.perf_counter()
    with _Writer(out_dir) as writer:
        for event in iter_events(decks, seed, start, days, sources, mix):
            writer.put(event.relpath, dumps_event(event, indent))
            summary.add(event)
    summary.seconds = time.perf_counter() - began
    return summary


class _Writer:
    """Writes files on a background thread so disk I/O overlaps with generation.

    File writes release the GIL, so on a multi-core machine the generator keeps running while
    the kernel copies the previous event. The queue is bounded: at most a few dozen serialised
    events (a few MB) are ever held in memory. The first write error is re-raised in the caller.
    """

    _QUEUE_SIZE = 32

    def __init__(self, root: Path) -> None:
        self.root = root
        self.queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(self._QUEUE_SIZE)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)

    def __enter__(self) -> _Writer:
        self.thread.start()
        return self

    def put(self, relpath: str, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((relpath, data))

    def _run(self) -> None:
        made_dirs: set[str] = set()
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain the queue so the producer never blocks forever
            relpath, data = item
            try:
                folder = relpath.rpartition("/")[0]
                if folder not in made_dirs:
                    (self.root / folder).mkdir(parents=True, exist_ok=True)
                    made_dirs.add(folder)
                with open(self.root / relpath, "wb") as handle:
                    handle.write(data)
            except BaseException as exc:  # re-raised in the producer thread
                self.error = exc

    def __exit__(self, *exc_info: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error
