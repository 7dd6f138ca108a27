"""Paper-event files of the demo generator: melee.gg (Swiss + Top 8) and CardsRealm (Pauper)."""

from __future__ import annotations

import math
import uuid
from datetime import date

from pipelines.demo.state import (
    _CARDSREALM_SERIES,
    GeneratedEvent,
    GeneratorState,
    _base36,
    _path,
    _Planned,
    melee_ordinal,
    mtgo_ordinal,
    slugify,
)
from pipelines.demo.swiss import BRACKET_ROUND_NAMES, BYE, run_bracket, run_swiss, swiss_rounds_for

# Melee switched from naive to "+00:00" tournament datetimes around mid-2025 (DOMAIN.md §2.4).
_MELEE_OFFSET_FROM = date(2025, 7, 1)

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


class PaperEvents(GeneratorState):
    """The melee.gg and CardsRealm event builders (mixed into the generator)."""

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
