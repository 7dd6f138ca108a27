"""MTGO files of the demo generator: challenges (Top-8 bracket, 32 lists) and leagues."""

from __future__ import annotations

import bisect
from datetime import date
from typing import Any

from pipelines.demo.state import (
    _LOYALTY,
    GeneratedEvent,
    GeneratorState,
    _path,
    _Planned,
    mtgo_ordinal,
)
from pipelines.demo.swiss import BRACKET_ROUND_NAMES, run_bracket, run_swiss, swiss_rounds_for

_LEAGUE_IDS = {"Legacy": 9718, "Modern": 9742, "Pauper": 9750, "Pioneer": 9758}


class MtgoEvents(GeneratorState):
    """The MTGO event builders (mixed into the generator)."""

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
