"""The seeded state of one demo-generator run, shared by its event builders.

Planning (event kinds, formats and sizes of a :class:`Mix`), the player pools with their
skills and favourite archetypes, the per-format deck pools and matchup model, and the small
naming helpers of the reference scrapers. The builders of each source's files live in
:mod:`pipelines.demo.mtgo` and :mod:`pipelines.demo.paper`; :mod:`pipelines.demo.generator`
puts them together.
"""

from __future__ import annotations

import bisect
import math
import random
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipelines.demo.catalog import FORMATS, FormatSpec
from pipelines.demo.decks import DeckVariant, build_pools
from pipelines.demo.players import player_pools
from pipelines.demo.swiss import MatchModel

SOURCES: tuple[str, ...] = ("MTGO", "MTGmelee", "CardsRealm")

_POOL_SIZES = {"MTGO": 6000, "MTGmelee": 9000, "CardsRealm": 700}
# Relative frequency of each event kind (per event, not per deck). With the size distributions
# below this gives roughly 54 % MTGO, 41 % melee.gg and 5 % CardsRealm decks, close to the
# real sample's mix.
_KIND_WEIGHTS = {
    "challenge32": ("MTGO", 5.0),
    "challenge64": ("MTGO", 1.5),
    "league": ("MTGO", 2.5),
    "melee": ("MTGmelee", 4.0),
    "cardsrealm": ("CardsRealm", 1.2),
}


@dataclass(frozen=True, slots=True)
class Mix:
    """What kinds of events a run is made of: per kind, its source and relative frequency (per
    event), and the published lists of a league file (min, max)."""

    kinds: dict[str, tuple[str, float]]
    league_decks: tuple[int, int] = (8, 40)


DEMO_MIX = Mix(_KIND_WEIGHTS)
# The public archive (2020-2026: ~490,000 decks, ~575,000 matches, ~17,000 files) is more MTGO
# than the recent sample: many more leagues (small files, no rounds) and fewer melee.gg events,
# hence ~1.2 matches and ~29 decks per file instead of the sample's ~1.75 and ~30.
ARCHIVE_MIX = Mix(
    {
        "challenge32": ("MTGO", 5.0),
        "challenge64": ("MTGO", 1.5),
        "league": ("MTGO", 6.0),
        "melee": ("MTGmelee", 1.8),
        "cardsrealm": ("CardsRealm", 1.0),
    },
    league_decks=(6, 26),
)
_FORMAT_WEIGHTS = {"Modern": 0.34, "Pioneer": 0.22, "Legacy": 0.17, "Pauper": 0.27}
# Share of decks of a player that are their usual archetype in a format (player loyalty makes
# per-player statistics meaningful).
_LOYALTY = 0.55
_SKILL_SIGMA = 0.35
_DRAW_RATE = {"MTGO": 0.0, "MTGmelee": 0.03, "CardsRealm": 0.03}

_CARDSREALM_SERIES = (
    "Pauper Royale",
    "Meeple's Club - Pauper",
    "Tropical Pauper",
    "Liga Fuguete Pauper",
    "Torneio Pauper do Weber",
)


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    """One tournament file: where it goes, its JSON object and each deck's intended label."""

    source: str
    format: str
    relpath: str  # "<Source>/<yyyy>/<mm>/<dd>/<name>.json", "/"-separated
    payload: dict[str, Any]
    intended: tuple[str, ...]  # one catalog label per entry of payload["Decks"]
    matches: int  # number of Match objects in payload["Rounds"]


def slugify(text: str) -> str:
    """The Melee/Topdeck file-name slug of the reference scraper (DOMAIN.md §2.1)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"[^\w\s-]", "", ascii_text.lower())
    return re.sub(r"-{2,}", "-", re.sub(r"[\s_]+", "-", ascii_text)).strip("-")


def mtgo_ordinal(n: int) -> str:
    """MTGO/CardsRealm placement string: 1st, 2nd, 3rd, then ``Nth`` (so ``21th Place``)."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n, "th")
    return f"{n}{suffix} Place"


def melee_ordinal(n: int) -> str:
    """Melee/Topdeck placement string: ``st`` for ranks 1-3 (``2st Place``), ``th`` above."""
    return f"{n}{'st' if n <= 3 else 'th'} Place"


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out


def _edge_noise(a: str, b: str) -> float:
    """A stable pseudo-random matchup edge in [-0.25, 0.25] for an unordered archetype pair.

    zlib.crc32 rather than hash(): str hashes are randomised per process.
    """
    first, second = sorted((a, b))
    value = (zlib.crc32(f"{first}|{second}".encode()) % 1001) / 1000.0 - 0.5
    return value * 0.5 if a == first else -value * 0.5


def matchup_logits(spec: FormatSpec) -> list[list[float]]:
    """Antisymmetric matchup logit matrix (archetype order of ``spec``).

    Edge of ``a`` vs ``b`` = power(a) - power(b) + hand-written edge + stable noise.
    """
    archetypes = spec.archetypes
    size = len(archetypes)
    matrix = [[0.0] * size for _ in range(size)]
    for i, a in enumerate(archetypes):
        for j, b in enumerate(archetypes):
            if i == j:
                continue
            edge = spec.edges.get((a.key, b.key), 0.0) - spec.edges.get((b.key, a.key), 0.0)
            matrix[i][j] = a.power - b.power + edge + _edge_noise(a.key, b.key)
    return matrix


def _cumulative(weights: Iterable[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        out.append(total)
    return out


@dataclass(slots=True)
class _FormatState:
    spec: FormatSpec
    pools: list[list[DeckVariant]]
    logits: list[list[float]]
    cum_share: list[float]
    cum_league: list[float]  # 5-0 league lists over-represent strong archetypes


@dataclass(frozen=True, slots=True)
class _Planned:
    kind: str
    fmt: str
    decks: int


class GeneratorState:
    """Holds the seeded state of one run; ``events()`` yields the tournaments one by one."""

    def __init__(
        self, seed: int, start: date, days: int, sources: Sequence[str], mix: Mix = DEMO_MIX
    ) -> None:
        unknown = set(sources) - set(SOURCES)
        if unknown or not sources:
            raise ValueError(f"sources must be a non-empty subset of {SOURCES}, got {sources}")
        if days < 1:
            raise ValueError("days must be >= 1")
        self.rng = random.Random(seed)
        self.start = start
        self.days = days
        self.sources = tuple(s for s in SOURCES if s in sources)
        self.mix = mix
        rng = self.rng
        self.formats: dict[str, _FormatState] = {}
        for name, spec in FORMATS.items():
            shares = [a.share for a in spec.archetypes]
            self.formats[name] = _FormatState(
                spec=spec,
                pools=build_pools(rng, spec),
                logits=matchup_logits(spec),
                cum_share=_cumulative(shares),
                cum_league=_cumulative(a.share * math.exp(2.0 * a.power) for a in spec.archetypes),
            )
        self.players = player_pools(rng, _POOL_SIZES)
        self.skills = {
            source: [rng.gauss(0.0, _SKILL_SIGMA) for _ in names]
            for source, names in self.players.items()
        }
        self.favourites: dict[tuple[str, int, str], int] = {}
        self.mtgo_event_id = 12_760_000 + rng.randrange(10_000)
        self.melee_event_id = 250_000 + rng.randrange(10_000)
        self.cardsrealm_event = 60_000 + rng.randrange(5_000)
        self.cardsrealm_deck = 900_000 + rng.randrange(50_000)
        self.cardsrealm_numbers = {series: rng.randint(40, 300) for series in _CARDSREALM_SERIES}
        self.melee_numbers: Counter[str] = Counter()
        self.leagues_on_day: Counter[tuple[str, date]] = Counter()

    # -- planning ------------------------------------------------------------------------------

    def plan(self, decks: int) -> list[_Planned]:
        """Event kinds, formats and published deck counts summing exactly to ``decks``.

        The plan holds a few small tuples per event (a few thousand for the scale run); the
        decks themselves are only built when each event is generated.
        """
        rng = self.rng
        weights = self.mix.kinds
        kinds = [k for k, (source, _) in weights.items() if source in self.sources]
        cum_kinds = _cumulative(weights[k][1] for k in kinds)
        formats = list(_FORMAT_WEIGHTS)
        cum_formats = _cumulative(_FORMAT_WEIGHTS.values())
        # Any-size kind used when a fixed-size event (a challenge: always 32 lists) does not fit.
        flexible = next(k for k in ("league", "melee", "cardsrealm") if k in kinds)
        planned: list[_Planned] = []
        remaining = decks
        while remaining > 0:
            kind = kinds[bisect.bisect(cum_kinds, rng.random() * cum_kinds[-1])]
            fmt = formats[bisect.bisect(cum_formats, rng.random() * cum_formats[-1])]
            size = self._event_size(kind)
            if size > remaining:
                if kind.startswith("challenge"):
                    kind = flexible
                size = remaining
            if kind == "cardsrealm":
                fmt = "Pauper"
            planned.append(_Planned(kind, fmt, size))
            remaining -= size
        return planned

    def _event_size(self, kind: str) -> int:
        rng = self.rng
        if kind.startswith("challenge"):
            return 32
        if kind == "league":
            return rng.randint(*self.mix.league_decks)
        if kind == "cardsrealm":
            return rng.randint(6, 32)
        r = rng.random()  # melee.gg: many small locals, some mid-size, a few big opens
        if r < 0.6:
            return rng.randint(8, 32)
        if r < 0.9:
            return rng.randint(33, 96)
        return rng.randint(97, 300)

    # -- players and decks ---------------------------------------------------------------------

    def _pick_players(self, source: str, count: int) -> list[int]:
        """Distinct player indexes, skewed towards the start of the pool (the regulars)."""
        size = len(self.players[source])
        if count > size:
            raise ValueError(f"event of {count} players exceeds the {source} pool")
        rnd = self.rng.random
        chosen: dict[int, None] = {}
        while len(chosen) < count:
            chosen[int(size * rnd() ** 1.7)] = None
        return list(chosen)

    def _archetype(self, source: str, player: int, state: _FormatState) -> int:
        rng = self.rng
        cum = state.cum_share
        key = (source, player, state.spec.name)
        favourite = self.favourites.get(key)
        if favourite is None:
            favourite = bisect.bisect(cum, rng.random() * cum[-1])
            self.favourites[key] = favourite
        if rng.random() < _LOYALTY:
            return favourite
        return bisect.bisect(cum, rng.random() * cum[-1])

    def _model(self, source: str, players: list[int], state: _FormatState) -> MatchModel:
        skills = self.skills[source]
        return MatchModel(
            logit=state.logits,
            arch=[self._archetype(source, p, state) for p in players],
            skill=[skills[p] for p in players],
            draw_rate=_DRAW_RATE[source],
            rng=self.rng,
        )

    def _variant(self, state: _FormatState, archetype: int) -> DeckVariant:
        pool = state.pools[archetype]
        return pool[self.rng.randrange(len(pool))]


def _path(source: str, day: date, name: str) -> str:
    return f"{source}/{day.year:04d}/{day.month:02d}/{day.day:02d}/{name}.json"
