"""A small, fast Swiss + single-elimination simulator for the demo generator.

Players are integers ``0..n-1``. Match winners are drawn from a logistic model (archetype
matchup logit + player skill difference), so archetype win rates and matchup matrices computed
from the generated files are non-trivial but plausible. Tie-breakers follow the MTR: match-win
and game-win percentages of opponents are floored at 1/3, byes count as a 2-0 win for the player
and are ignored for the opponents' percentages.

Speed matters (the scale benchmark simulates millions of matches), hence plain lists, local
variable aliases and no per-match objects.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# A match as stored by the simulator: (player a, player b or BYE, games a, games b, drawn games).
Match = tuple[int, int, int, int, int]
BYE = -1
_THIRD = 1.0 / 3.0

# Standard bracket seeding (seed indexes into the top-k list) so 1 meets 8 in the quarters,
# and the 1/8 winner meets the 4/5 winner in the semis.
_BRACKET_ORDER = {2: (0, 1), 4: (0, 3, 1, 2), 8: (0, 7, 3, 4, 1, 6, 2, 5)}
BRACKET_ROUND_NAMES = {8: ("Quarterfinals", "Semifinals", "Finals"), 4: ("Semifinals", "Finals")}


@dataclass(slots=True)
class MatchModel:
    """Inputs of the outcome model for one event.

    ``logit[a][b]`` is the archetype matchup edge of archetype ``a`` against ``b`` (antisymmetric);
    ``arch[i]`` and ``skill[i]`` are the archetype index and skill of player ``i``.
    """

    logit: list[list[float]]
    arch: list[int]
    skill: list[float]
    draw_rate: float
    rng: random.Random

    def play(self, a: int, b: int, allow_draw: bool = True) -> tuple[int, int, int]:
        """Games won by a, by b and drawn games for one best-of-three match."""
        rnd = self.rng.random
        if allow_draw and self.draw_rate:
            r = rnd()
            if r < self.draw_rate:
                r /= self.draw_rate
                # Mostly 1-1-1 (time in game three), some 1-1-0, rare intentional 0-0-3.
                if r < 0.6:
                    return 1, 1, 1
                return (1, 1, 0) if r < 0.92 else (0, 0, 3)
        x = self.logit[self.arch[a]][self.arch[b]] + self.skill[a] - self.skill[b]
        loser_games = 1 if rnd() < 0.42 else 0
        if rnd() * (1.0 + math.exp(-x)) < 1.0:  # rnd() < sigmoid(x) without a division
            return 2, loser_games, 0
        return loser_games, 2, 0


@dataclass(slots=True)
class SwissResult:
    """Everything the source writers need from a Swiss tournament."""

    rounds: list[list[Match]]
    points: list[int]
    wins: list[int]
    losses: list[int]
    draws: list[int]
    omwp: list[float]
    gwp: list[float]
    ogwp: list[float]
    order: list[int]  # players by final Swiss standing (points, OMWP, GWP, OGWP)


def swiss_rounds_for(players: int) -> int:
    """Number of Swiss rounds a tournament of this size usually plays (ceil(log2), 3..10)."""
    return min(10, max(3, math.ceil(math.log2(max(players, 2)))))


def run_swiss(n: int, rounds: int, model: MatchModel) -> SwissResult:
    """Simulate ``rounds`` Swiss rounds for ``n`` players (``n >= 2``)."""
    rnd = model.rng.random
    exp = math.exp
    logit = model.logit
    arch = model.arch
    skill = model.skill
    draw_rate = model.draw_rate
    points = [0] * n
    wins = [0] * n
    losses = [0] * n
    draws = [0] * n
    game_points = [0] * n
    games = [0] * n
    played = [0] * n
    had_bye = [False] * n
    opponents: list[list[int]] = [[] for _ in range(n)]
    met: list[set[int]] = [set() for _ in range(n)]
    all_rounds: list[list[Match]] = []
    for _ in range(rounds):
        # Points plus a random fraction: sorting on it orders by points and shuffles ties.
        keys = [pts + rnd() for pts in points]
        remaining = sorted(range(n), key=keys.__getitem__, reverse=True)
        matches: list[Match] = []
        if n % 2:
            # The bye goes to the lowest-ranked player who has not had one yet.
            bye = next((p for p in reversed(remaining) if not had_bye[p]), remaining[-1])
            remaining.remove(bye)
            had_bye[bye] = True
            points[bye] += 3
            wins[bye] += 1
            game_points[bye] += 6
            games[bye] += 2
            played[bye] += 1
            matches.append((bye, BYE, 2, 0, 0))
        while remaining:
            a = remaining[0]
            seen = met[a]
            j = 1
            last = len(remaining)
            while j < last and remaining[j] in seen:
                j += 1
            if j == last:  # everybody left was met already: accept a rematch
                j = 1
            b = remaining[j]
            del remaining[j]
            del remaining[0]
            # Inlined MatchModel.play (this loop runs millions of times in the scale run).
            if draw_rate and (r := rnd()) < draw_rate:
                r /= draw_rate
                ga, gb, gd = (1, 1, 1) if r < 0.6 else (1, 1, 0) if r < 0.92 else (0, 0, 3)
            else:
                lg = 1 if rnd() < 0.42 else 0
                x = logit[arch[a]][arch[b]] + skill[a] - skill[b]
                if rnd() * (1.0 + exp(-x)) < 1.0:
                    ga, gb, gd = 2, lg, 0
                else:
                    ga, gb, gd = lg, 2, 0
            matches.append((a, b, ga, gb, gd))
            seen.add(b)
            met[b].add(a)
            opponents[a].append(b)
            opponents[b].append(a)
            played[a] += 1
            played[b] += 1
            g = ga + gb + gd
            games[a] += g
            games[b] += g
            game_points[a] += 3 * ga + gd
            game_points[b] += 3 * gb + gd
            if ga > gb:
                points[a] += 3
                wins[a] += 1
                losses[b] += 1
            elif gb > ga:
                points[b] += 3
                wins[b] += 1
                losses[a] += 1
            else:
                points[a] += 1
                points[b] += 1
                draws[a] += 1
                draws[b] += 1
        all_rounds.append(matches)

    mwp = [max(_THIRD, points[i] / (3.0 * played[i])) if played[i] else _THIRD for i in range(n)]
    gwp = [game_points[i] / (3.0 * games[i]) if games[i] else 0.0 for i in range(n)]
    floored_gwp = [max(_THIRD, g) for g in gwp]
    omwp = [0.0] * n
    ogwp = [0.0] * n
    for i in range(n):
        opp = opponents[i]
        if opp:
            omwp[i] = sum([mwp[o] for o in opp]) / len(opp)
            ogwp[i] = sum([floored_gwp[o] for o in opp]) / len(opp)
    final = sorted(range(n), key=lambda i: (-points[i], -omwp[i], -gwp[i], -ogwp[i], i))
    return SwissResult(all_rounds, points, wins, losses, draws, omwp, gwp, ogwp, final)


@dataclass(slots=True)
class BracketResult:
    """A single-elimination top cut: rounds (winner first) and the final placement order."""

    rounds: list[list[tuple[int, int, int, int]]]  # (winner, loser, winner games, loser games)
    placement: list[int]  # champion, finalist, semifinal losers, quarterfinal losers
    wins: dict[int, int]
    losses: dict[int, int]


def run_bracket(seeds: list[int], model: MatchModel) -> BracketResult:
    """Play a 2/4/8-player single elimination; ``seeds`` is in Swiss standing order."""
    size = len(seeds)
    alive = [seeds[k] for k in _BRACKET_ORDER[size]]
    rank = {p: k for k, p in enumerate(seeds)}
    rounds: list[list[tuple[int, int, int, int]]] = []
    eliminated: list[list[int]] = []
    wins = dict.fromkeys(seeds, 0)
    losses = dict.fromkeys(seeds, 0)
    while len(alive) > 1:
        matches = []
        winners = []
        losers = []
        for k in range(0, len(alive), 2):
            a, b = alive[k], alive[k + 1]
            ga, gb, _ = model.play(a, b, allow_draw=False)
            w, lo, gw, gl = (a, b, ga, gb) if ga > gb else (b, a, gb, ga)
            matches.append((w, lo, gw, gl))
            winners.append(w)
            losers.append(lo)
            wins[w] += 1
            losses[lo] += 1
        rounds.append(matches)
        eliminated.append(sorted(losers, key=rank.__getitem__))
        alive = winners
    placement = [alive[0]]
    for group in reversed(eliminated):
        placement.extend(group)
    return BracketResult(rounds, placement, wins, losses)
