"""Chart- and page-ready rows from the statistics readers (:mod:`pipelines.stats.store`).

This module is the **one place** that knows the field names of the stats answers: the chart
specifications (:mod:`pipelines.charts.specs`), the page tables and the browser tests read
only the rows built here. When a stats field is renamed, only this file changes.

Units: every share and rate is a fraction in [0, 1] (formatted as percent when drawn).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pipelines.stats.matchups import MatchupMatrix

__all__ = [
    "DEFAULT_SHARE_CUT",
    "LOW_SAMPLE_MATCHES",
    "MAX_BARS",
    "TIER_BANDS",
    "archetype_slug",
    "card_rows",
    "low_sample",
    "matchup_cells",
    "meta_table",
    "share_rows",
    "slug",
    "summary",
    "tier_lines",
    "tier_points",
    "trend_points",
    "window_info",
    "winrate_rows",
]

#: An archetype below this share of decks is grouped into "Other" on the share chart.
DEFAULT_SHARE_CUT: Final = 0.02
#: At most this many archetypes get their own bar (the rest go to "Other").
MAX_BARS: Final = 15
#: Fewer decided matches than this: the win rate is marked as a small sample (greyed).
LOW_SAMPLE_MATCHES: Final = 30
#: (k, tier label of values at or above μ + kσ), as in :mod:`pipelines.stats.tiers`.
TIER_BANDS: Final = ((3, "0"), (2, "0.5"), (1, "1"), (0, "1.5"), (-1, "2"), (-2, "2.5"), (-3, "3"))
OTHER: Final = "Other"
#: Archetypes drawn on the trends chart.
TREND_SERIES: Final = 8
#: Cards drawn on the per-archetype card chart.
CARD_ROWS: Final = 30


def by_rank(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows in presence-rank order; the unrankable ones (``Unknown``, conflicts: no rank)
    after them, by presence."""
    return sorted(
        rows,
        key=lambda r: (r["rank"] is None, r["rank"] or 0, -(r.get("decks") or 0), r["archetype"]),
    )


def _decided(row: Mapping[str, Any]) -> int:
    return int(row.get("wins") or 0) + int(row.get("losses") or 0)


def low_sample(row: Mapping[str, Any]) -> bool:
    """Whether a row's win rate rests on too few decided matches to read much into."""
    flag = row.get("low_sample")  # the stats readers may decide it themselves
    if isinstance(flag, bool):
        return flag
    return _decided(row) < LOW_SAMPLE_MATCHES


def share_rows(
    meta: Mapping[str, Any], cut: float = DEFAULT_SHARE_CUT, max_bars: int = MAX_BARS
) -> list[dict[str, Any]]:
    """Share of decks per archetype, most first; those under ``cut`` (or past ``max_bars``)
    summed into one ``Other`` row, always last."""
    rows = by_rank(meta["archetypes"])
    kept: list[dict[str, Any]] = []
    other_share, other_decks, other_names = 0.0, 0, 0
    for row in rows:
        share = float(row["share_decks"] or 0.0)
        if row["archetype"] != OTHER and share >= cut and len(kept) < max_bars:
            kept.append(
                {
                    "archetype": row["archetype"],
                    "share": share,
                    "decks": row["decks"],
                    "other": False,
                }
            )
        else:
            other_share += share
            other_decks += int(row["decks"] or 0)
            other_names += 1
    if other_names:
        kept.append(
            {
                "archetype": OTHER,
                "share": other_share,
                "decks": other_decks,
                "other": True,
                "archetypes": other_names,
            }
        )
    return kept


def winrate_rows(meta: Mapping[str, Any], cut: float = DEFAULT_SHARE_CUT) -> list[dict[str, Any]]:
    """Win rate with the player-clustered and the Wilson interval per archetype above the
    share cut, sorted by the clustered lower bound (best first; no bound last)."""
    out = []
    for row in meta["archetypes"]:
        if float(row["share_decks"] or 0.0) < cut or row["win_rate"] is None:
            continue
        out.append(
            {
                "archetype": row["archetype"],
                "win_rate": row["win_rate"],
                "ci_lower": row["ci_lower"],
                "ci_upper": row["ci_upper"],
                "wilson_lower": row["wilson_lower"],
                "wilson_upper": row["wilson_upper"],
                "matches": _decided(row),
                "low_sample": low_sample(row),
            }
        )
    out.sort(key=lambda r: (r["ci_lower"] is None, -(r["ci_lower"] or 0.0), r["archetype"]))
    return out


def tier_lines(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The μ + kσ lines of the tier table (on the lower bound of the win-rate interval)."""
    totals = meta.get("totals") or {}
    mean, sd = totals.get("ci_mean"), totals.get("ci_sd")
    if mean is None:
        return []
    sd = sd or 0.0
    lines = []
    for k, label in TIER_BANDS:
        if sd == 0.0 and k != 0:
            continue
        lines.append({"k": k, "value": mean + k * sd, "tier": label, "label": f"μ{k:+d}σ"})
    return lines


def tier_points(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Presence (share of decks) against the interval's lower bound, per tiered archetype."""
    return [
        {
            "archetype": row["archetype"],
            "share": float(row["share_decks"] or 0.0),
            "win_rate": row["win_rate"],
            "ci_lower": row["ci_lower"],
            "tier": row["tier_ci"],
            "low_sample": low_sample(row),
        }
        for row in by_rank(meta["archetypes"])
        if row["in_tier_table"] and row["ci_lower"] is not None
    ]


def matchup_cells(matrix: MatchupMatrix) -> list[dict[str, Any]]:
    """One cell per (row, column) archetype pair, from the row archetype's side."""
    cells = []
    for row in matrix.labels:
        for col in matrix.labels:
            cell = matrix.cell(row, col)
            cells.append(
                {
                    "archetype": row,
                    "opponent": col,
                    "win_rate": cell.win_rate,
                    "ci_lower": cell.lower,
                    "ci_upper": cell.upper,
                    "n": cell.n,
                    "wins": cell.wins,
                    "losses": cell.losses,
                    "draws": cell.draws,
                    "mirror": row == col,
                    "low_sample": low_sample({"wins": cell.wins, "losses": cell.losses}),
                }
            )
    return cells


def trend_points(trends: Mapping[str, Any], series: int = TREND_SERIES) -> list[dict[str, Any]]:
    """Weekly share of decks of the top ``series`` archetypes (long format)."""
    points = []
    for s in trends["series"][:series]:
        for p in s["points"]:
            points.append(
                {
                    "archetype": s["archetype"],
                    "week": p["week_start"].isoformat(),
                    "share": p["share_decks"],
                    "decks": p["decks"],
                }
            )
    return points


def card_rows(
    detail: Mapping[str, Any], board: str = "main", limit: int = CARD_ROWS
) -> list[dict[str, Any]]:
    """Inclusion (share of the archetype's decks playing the card) and average copies among
    the decks that play it, most included first."""
    usage: Sequence[Mapping[str, Any]] = detail["cards"][board]
    rows = [
        {
            "card": u["card"],
            "inclusion": u["share"],
            "average_copies": u["average_copies"],
            "decks": u["decks"],
        }
        for u in usage
    ]
    rows.sort(key=lambda r: (-r["inclusion"], -r["average_copies"], r["card"]))
    return rows[:limit]


@dataclass(frozen=True, slots=True)
class Summary:
    """What the page header of a window shows."""

    decks: int
    players: int
    matches: int
    archetypes: int


def summary(meta: Mapping[str, Any]) -> Summary:
    """Totals of a window."""
    totals = meta.get("totals") or {}
    return Summary(
        int(totals.get("decks") or 0),
        int(totals.get("players") or 0),
        int(totals.get("matches") or 0),
        int(totals.get("archetypes") or 0),
    )


def slug(name: str) -> str:
    """URL slug of an archetype name (``"Mono Red Burn"`` -> ``"mono-red-burn"``)."""
    out = "".join(ch if ch.isalnum() else "-" for ch in name.casefold())
    return "-".join(part for part in out.split("-") if part) or "archetype"


def archetype_slug(row: Mapping[str, Any]) -> str:
    """The slug of a meta row (the stats readers' own ``slug`` when they give one)."""
    given = row.get("slug")
    return str(given) if given else slug(str(row["archetype"]))


def meta_table(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The meta table of the format page, in presence order."""
    return [
        {
            "archetype": row["archetype"],
            "slug": archetype_slug(row),
            "decks": row["decks"],
            "players": row["players"],
            "share": row["share_decks"],
            "matches": _decided(row),
            "win_rate": row["win_rate"],
            "ci_lower": row["ci_lower"],
            "ci_upper": row["ci_upper"],
            "wilson_lower": row["wilson_lower"],
            "wilson_upper": row["wilson_upper"],
            "tier": row["tier_ci"],
            "low_sample": low_sample(row),
        }
        for row in by_rank(meta["archetypes"])
    ]


def window_info(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Dates, period name, generation and freshness of a reader's answer."""
    window = stats["window"]
    return {
        "start": window["start"],
        "end": window["end"],
        "period_name": window.get("period_name"),
        "generation": stats.get("generation"),
        "as_of": stats.get("as_of"),
    }
