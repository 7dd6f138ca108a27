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

import bisect
import math
import queue
import random
import re
import threading
import time
import unicodedata
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from pipelines.demo.catalog import FORMATS, FormatSpec
from pipelines.demo.decks import DeckVariant, build_pools
from pipelines.demo.players import player_pools
from pipelines.demo.swiss import (
    BRACKET_ROUND_NAMES,
    BYE,
    MatchModel,
    run_bracket,
    run_swiss,
    swiss_rounds_for,
)

SOURCES: tuple[str, ...] = ("MTGO", "MTGmelee", "CardsRealm")
DEFAULT_START = date(2025, 1, 6)  # fixed (not "today") so a seed always gives the same files
DEFAULT_DAYS = 28
# Ten times the real sample (16,784 decks in shared/data/tournaments), for the scale benchmark.
SCALE_DECKS = 170_000

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
_LEAGUE_IDS = {"Legacy": 9718, "Modern": 9742, "Pauper": 9750, "Pioneer": 9758}
# Melee switched from naive to "+00:00" tournament datetimes around mid-2025 (DOMAIN.md §2.4).
_MELEE_OFFSET_FROM = date(2025, 7, 1)
# Share of decks of a player that are their usual archetype in a format (player loyalty makes
# per-player statistics meaningful).
_LOYALTY = 0.55
_SKILL_SIGMA = 0.35
_DRAW_RATE = {"MTGO": 0.0, "MTGmelee": 0.03, "CardsRealm": 0.03}

_MELEE_TEMPLATES = (
    "{store} Weekly {fmt}",
    "{city} {fmt} Open",
    "Regional Championship Qualifier - {store}",
    "{fmt} Monthly at {store}",
    "{store} {fmt} Showdown #{n}",
    "{city} {fmt} Series {n}",
    "Friday Night {fmt} @ {store}",
)
_STORES = (
    "The Mana Vault",
    "Dragon's Lair",
    "Kingdom Cards Café",
    "Spellbound",
    "Goblin Games",
    "Tolarian Academy",
    "Untap Club",
    "Le Grimoire",
    "Zauberwerk",
    "Bazar de Lutèce",
    "Mox Hobbies",
    "Top Deck Lounge",
    "Kraken Cards",
    "Jogos do Norte",
)
_CITIES = (
    "Seattle",
    "Lyon",
    "Porto Alegre",
    "Osaka",
    "Berlin",
    "Madrid",
    "Toronto",
    "Melbourne",
    "Milano",
    "Kraków",
    "São Paulo",
    "Göteborg",
    "Austin",
    "Dublin",
)
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


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


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


class _Generator:
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

    # -- MTGO ----------------------------------------------------------------------------------

    def _challenge(self, item: _Planned, day: date) -> GeneratedEvent:
        rng = self.rng
        state = self.formats[item.fmt]
        size = 64 if item.kind == "challenge64" else 32
        n = rng.randint(65, 110) if size == 64 else rng.randint(33, 72)
        players = self._pick_players("MTGO", n)
        names = self.players["MTGO"]
        model = self._model("MTGO", players, state)
        swiss = run_swiss(n, swiss_rounds_for(n), model)
        bracket = run_bracket(swiss.order[:8], model)
        placement = bracket.placement + swiss.order[8:]

        self.mtgo_event_id += rng.randint(3, 60)
        slug = f"{item.fmt.lower()}-challenge-{size}-{day.isoformat()}{self.mtgo_event_id}"
        uri = f"https://www.mtgo.com/decklist/{slug}"
        deck_date = f"{day.isoformat()}T{rng.choice((1, 8, 13, 15, 18, 20, 23)):02d}:00:00+00:00"
        decks = []
        intended = []
        for place, p in enumerate(placement[:32], start=1):
            variant = self._variant(state, model.arch[p])
            name = names[players[p]]
            decks.append(
                {
                    "Date": deck_date,
                    "Player": name,
                    "Result": mtgo_ordinal(place),
                    "AnchorUri": f"{uri}#deck_{name}",
                    "Mainboard": variant.mtgo_main,
                    "Sideboard": variant.mtgo_side,
                }
            )
            intended.append(variant.label)
        rounds = [
            {
                "RoundName": round_name,
                "Matches": [
                    {
                        "Player1": names[players[w]],
                        "Player2": names[players[loser]],
                        "Result": f"{gw}-{gl}-0",
                    }
                    for w, loser, gw, gl in matches
                ],
            }
            for round_name, matches in zip(BRACKET_ROUND_NAMES[8], bracket.rounds, strict=True)
        ]
        standings = [
            {
                "Rank": rank,
                "Player": names[players[p]],
                "Points": swiss.points[p],
                # MTGO's win/loss feed includes playoff matches; Draws is hard-coded to 0.
                "Wins": swiss.wins[p] + bracket.wins.get(p, 0),
                "Losses": swiss.losses[p] + bracket.losses.get(p, 0),
                "Draws": 0,
                "OMWP": round(swiss.omwp[p], 4),
                "GWP": round(swiss.gwp[p], 4),
                "OGWP": round(swiss.ogwp[p], 4),
            }
            for rank, p in enumerate(swiss.order[:32], start=1)
        ]
        payload = {
            "Tournament": {
                "Date": day.isoformat(),
                "Name": f"{item.fmt} Challenge {size}",
                "Uri": uri,
                "Formats": item.fmt,
            },
            "Decks": decks,
            "Rounds": rounds,
            "Standings": standings,
        }
        return GeneratedEvent(
            "MTGO", item.fmt, _path("MTGO", day, slug), payload, tuple(intended), 7
        )

    def _league(self, item: _Planned, day: date) -> GeneratedEvent:
        rng = self.rng
        state = self.formats[item.fmt]
        names = self.players["MTGO"]
        # A league id lives for two weeks; a second league file of the same format on the same
        # day (only in very dense runs) gets the next id so file names never collide.
        repeat = self.leagues_on_day[(item.fmt, day)]
        self.leagues_on_day[(item.fmt, day)] += 1
        league_id = _LEAGUE_IDS[item.fmt] + 64 * ((day.toordinal() // 14) % 100) + repeat
        slug = f"{item.fmt.lower()}-league-{day.isoformat()}{league_id}"
        uri = f"https://www.mtgo.com/decklist/{slug}"
        deck_date = f"{day.isoformat()}T00:00:00+00:00"
        cum = state.cum_league
        decks: list[dict[str, Any]] = []
        intended: list[str] = []
        players = self._pick_players("MTGO", item.decks)
        k = 0
        while len(decks) < item.decks:
            # Leagues list the same player several times (byte-identical decks, same AnchorUri).
            if decks and rng.random() < 0.04:
                copied = rng.randrange(len(decks))
                decks.append(dict(decks[copied]))
                intended.append(intended[copied])
                continue
            player = players[k]
            k += 1
            if rng.random() < _LOYALTY:
                archetype = self._archetype("MTGO", player, state)
            else:
                archetype = bisect.bisect(cum, rng.random() * cum[-1])
            variant = self._variant(state, archetype)
            name = names[player]
            decks.append(
                {
                    "Date": deck_date,
                    "Player": name,
                    "Result": "5-0",
                    "AnchorUri": f"{uri}#deck_{name}",
                    "Mainboard": variant.mtgo_main,
                    "Sideboard": variant.mtgo_side,
                }
            )
            intended.append(variant.label)
        payload = {
            "Tournament": {
                "Date": day.isoformat(),
                "Name": f"{item.fmt} League",
                "Uri": uri,
                "Formats": item.fmt,
            },
            "Decks": decks,
            "Rounds": [],
            "Standings": [],
        }
        return GeneratedEvent(
            "MTGO", item.fmt, _path("MTGO", day, slug), payload, tuple(intended), 0
        )

    # -- melee.gg ------------------------------------------------------------------------------

    def _melee(self, item: _Planned, day: date) -> GeneratedEvent:
        rng = self.rng
        state = self.formats[item.fmt]
        published = item.decks
        if published < 8:
            n = published + rng.randint(8 - published, 12 - published)
        else:
            # Most melee.gg events require lists; a minority of players never publish.
            share = 1.0 if rng.random() < 0.3 else rng.uniform(0.7, 0.98)
            n = max(published, math.ceil(published / share))
        players = self._pick_players("MTGmelee", n)
        names = self.players["MTGmelee"]
        model = self._model("MTGmelee", players, state)
        swiss = run_swiss(n, swiss_rounds_for(n), model)
        bracket = run_bracket(swiss.order[:8], model) if n >= 24 else None
        ranking = bracket.placement + swiss.order[8:] if bracket else swiss.order
        has_deck = [False] * n
        for p in rng.sample(range(n), published):
            has_deck[p] = True

        template = rng.choice(_MELEE_TEMPLATES)
        self.melee_numbers[template] += 1
        name = template.format(
            store=rng.choice(_STORES),
            city=rng.choice(_CITIES),
            fmt=item.fmt,
            n=self.melee_numbers[template],
        )
        self.melee_event_id += rng.randint(5, 400)
        event_id = self.melee_event_id
        file_title = name if item.fmt.lower() in name.lower() else f"{name} ({item.fmt})"
        filename = f"{slugify(file_title)}-{event_id}-{day.isoformat()}"
        start_time = f"{day.isoformat()}T{rng.choice((9, 10, 11, 13, 14, 18, 19)):02d}:00:00"
        if day >= _MELEE_OFFSET_FROM:
            start_time += "+00:00"

        def pname(p: int) -> str:
            return names[players[p]]

        # Rounds are rebuilt from published decks' match histories (DOMAIN.md §5.3).
        rounds = []
        match_count = 0
        swiss_names = [f"Round {k}" for k in range(1, len(swiss.rounds) + 1)]
        for round_name, matches in zip(swiss_names, swiss.rounds, strict=True):
            out = []
            for a, b, ga, gb, gd in matches:
                if b == BYE:
                    if has_deck[a]:
                        out.append({"Player1": pname(a), "Player2": "-", "Result": "2-0-0"})
                    continue
                if not (has_deck[a] or has_deck[b]):
                    continue
                if ga == gb:  # a draw is reported from both sides: listed twice
                    if has_deck[a]:
                        out.append(
                            {"Player1": pname(a), "Player2": pname(b), "Result": f"{ga}-{gb}-{gd}"}
                        )
                    if has_deck[b]:
                        out.append(
                            {"Player1": pname(b), "Player2": pname(a), "Result": f"{gb}-{ga}-{gd}"}
                        )
                elif ga > gb:
                    out.append(
                        {"Player1": pname(a), "Player2": pname(b), "Result": f"{ga}-{gb}-{gd}"}
                    )
                else:
                    out.append(
                        {"Player1": pname(b), "Player2": pname(a), "Result": f"{gb}-{ga}-{gd}"}
                    )
            match_count += len(out)
            rounds.append({"RoundName": round_name, "Matches": out})
        if bracket:
            for round_name, played in zip(BRACKET_ROUND_NAMES[8], bracket.rounds, strict=True):
                out = [
                    {"Player1": pname(w), "Player2": pname(loser), "Result": f"{gw}-{gl}-0"}
                    for w, loser, gw, gl in played
                    if has_deck[w] or has_deck[loser]
                ]
                if not out:  # no published list reached this round: it is not in any history
                    break
                match_count += len(out)
                rounds.append({"RoundName": round_name, "Matches": out})

        playoff_wins = bracket.wins if bracket else {}
        playoff_losses = bracket.losses if bracket else {}
        standings = []
        decks = []
        intended = []
        for rank, p in enumerate(ranking, start=1):
            wins = swiss.wins[p] + playoff_wins.get(p, 0)
            standings.append(
                {
                    "Rank": rank,
                    "Player": pname(p),
                    "Points": swiss.points[p] + 3 * playoff_wins.get(p, 0),
                    "Wins": wins,
                    "Losses": swiss.losses[p] + playoff_losses.get(p, 0),
                    "Draws": swiss.draws[p],
                    "OMWP": round(swiss.omwp[p], 8),
                    "GWP": round(swiss.gwp[p], 8),
                    "OGWP": round(swiss.ogwp[p], 8),
                }
            )
            if has_deck[p]:
                variant = self._variant(state, model.arch[p])
                guid = uuid.UUID(int=rng.getrandbits(128), version=4)
                decks.append(
                    {
                        "Date": None,
                        "Player": pname(p),
                        "Result": melee_ordinal(rank),
                        "AnchorUri": f"https://melee.gg/Decklist/View/{guid}",
                        "Mainboard": variant.melee_main,
                        "Sideboard": variant.melee_side,
                    }
                )
                intended.append(variant.label)
        payload = {
            "Tournament": {
                "Date": start_time,
                "Name": name,
                "Uri": f"https://melee.gg/Tournament/View/{event_id}",
                "Formats": item.fmt,
            },
            "Decks": decks,
            "Rounds": rounds,
            "Standings": standings,
        }
        return GeneratedEvent(
            "MTGmelee",
            item.fmt,
            _path("MTGmelee", day, filename),
            payload,
            tuple(intended),
            match_count,
        )

    # -- CardsRealm ----------------------------------------------------------------------------

    def _cardsrealm(self, item: _Planned, day: date) -> GeneratedEvent:
        rng = self.rng
        state = self.formats["Pauper"]
        published = item.decks
        # Now and then a player is in the pairings without a published list.
        n = max(4, published + (1 if rng.random() < 0.2 else 0))
        players = self._pick_players("CardsRealm", n)
        names = self.players["CardsRealm"]
        model = self._model("CardsRealm", players, state)
        swiss_count = 3 if n <= 8 else 4 if n <= 16 else 5 if n <= 32 else 6
        swiss = run_swiss(n, swiss_count, model)
        cut = 8 if n >= 24 else 4 if n >= 12 else 0
        bracket = run_bracket(swiss.order[:cut], model) if cut else None
        ranking = bracket.placement + swiss.order[cut:] if bracket else swiss.order
        has_deck = [False] * n
        for p in rng.sample(range(n), published):
            has_deck[p] = True

        series = rng.choice(_CARDSREALM_SERIES)
        self.cardsrealm_numbers[series] += 1
        name = f"{series} {self.cardsrealm_numbers[series]}"
        self.cardsrealm_event += rng.randint(1, 40)
        slug = slugify(name)
        hour, minute = rng.choice((13, 16, 18, 19, 20, 23)), rng.choice((0, 30))
        when = f"{day.isoformat()}T{hour:02d}:{minute:02d}:00"

        def pname(p: int) -> str:
            return names[players[p]]

        rounds = []
        match_count = 0
        all_rounds: list[list[tuple[int, int, int, int, int]]] = list(swiss.rounds)
        if bracket:
            all_rounds += [[(w, lo, gw, gl, 0) for w, lo, gw, gl in r] for r in bracket.rounds]
        for number, matches in enumerate(all_rounds, start=1):
            out = []
            for a, b, ga, gb, gd in matches:
                if b == BYE:
                    result = "2-1-0" if rng.random() < 0.2 else "2-0-0"
                    out.append({"Player1": pname(a), "Player2": "", "Result": result})
                elif rng.random() < 0.5:  # CardsRealm does not put the winner first
                    out.append(
                        {"Player1": pname(a), "Player2": pname(b), "Result": f"{ga}-{gb}-{gd}"}
                    )
                else:
                    out.append(
                        {"Player1": pname(b), "Player2": pname(a), "Result": f"{gb}-{ga}-{gd}"}
                    )
            match_count += len(out)
            rounds.append({"RoundName": f"Round {number}", "Matches": out})

        standings = []
        decks = []
        intended = []
        for rank, p in enumerate(ranking, start=1):
            if not has_deck[p]:
                continue  # CardsRealm only lists players with a published deck
            standings.append(
                {
                    "Rank": rank,
                    "Player": pname(p),
                    "Points": swiss.points[p],
                    "Wins": swiss.wins[p],
                    "Losses": swiss.losses[p],
                    "Draws": swiss.draws[p],
                    # Scraped as percentages then divided by 100 (hence 0.41100000000000003).
                    "OMWP": round(swiss.omwp[p] * 100, 1) / 100,
                    "GWP": round(swiss.gwp[p] * 100, 1) / 100,
                    "OGWP": round(swiss.ogwp[p] * 100, 1) / 100,
                }
            )
            variant = self._variant(state, model.arch[p])
            self.cardsrealm_deck += rng.randint(1, 30)
            deck_slug = slugify(variant.label.split(":")[-1].split("/")[-1])
            decks.append(
                {
                    "Date": when,
                    "Player": pname(p),
                    "Result": mtgo_ordinal(rank),
                    "AnchorUri": "https://mtg.cardsrealm.com/en-us/decks/"
                    f"{_base36(self.cardsrealm_deck)}-{deck_slug}",
                    "Mainboard": variant.cardsrealm_main,
                    "Sideboard": variant.cardsrealm_side,
                }
            )
            intended.append(variant.label)
        payload = {
            "Tournament": {
                "Date": when,
                "Name": name,
                "Uri": "https://mtg.cardsrealm.com/en-us/tournament/"
                f"{_base36(self.cardsrealm_event)}-{slug}",
                "Formats": "Pauper",
            },
            "Decks": decks,
            "Rounds": rounds,
            "Standings": standings,
        }
        return GeneratedEvent(
            "CardsRealm",
            "Pauper",
            _path("CardsRealm", day, f"{slug}-{day.isoformat()}"),
            payload,
            tuple(intended),
            match_count,
        )


def _path(source: str, day: date, name: str) -> str:
    return f"{source}/{day.year:04d}/{day.month:02d}/{day.day:02d}/{name}.json"


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
