"""Typed rows of the statistics: one declaration per row kind, shared by every layer.

The refresh writes these fields to the window tables (``meta_window_stats``,
``meta_window_totals``, ``matchup_window_stats``), the readers return them, and the OpenAPI
schemas are derived from the same declarations (``api.openapi.types.s_typed``), so each
field list is written once. Units: :data:`Fraction` marks a value in [0, 1] (shares, rates,
bounds, coverage); ``X | None`` a value that may be missing (no decided match, too few
players…). Definitions: METHODOLOGY.md §3–§8.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, TypedDict, get_type_hints

__all__ = [
    "ARCHETYPE_STAT_FIELDS",
    "FRACTION",
    "MATCHUP_CELL_FIELDS",
    "TOTAL_STAT_FIELDS",
    "Fraction",
    "MatchupCell",
    "MetaRow",
    "MetaTotals",
    "field_names",
]

#: Marker of :data:`Fraction` (the OpenAPI schema bounds it to [0, 1]).
FRACTION: Final = "fraction in [0, 1]"
Fraction = Annotated[float, FRACTION]


class MetaRow(TypedDict):
    """One archetype of one (window, event group, basis): the meta table's row."""

    archetype: str
    slug: str
    name_raw: str
    rankable: bool
    decks: int
    players: int
    seats: int
    wins: int
    losses: int
    draws: int
    mirrors: int
    covered: int
    coverage: Fraction
    decided_players: int
    decided_per_deck: float
    share_decks: Fraction
    share_players: Fraction
    share_seats: Fraction
    win_rate: Fraction | None
    shrunk_win_rate: Fraction | None
    ci_lower: Fraction | None
    ci_upper: Fraction | None
    ci_method: Literal["cluster-cr2", "wilson-fallback"] | None
    ci_std_error: float | None
    ci_dof: float | None
    wilson_lower: Fraction | None
    wilson_upper: Fraction | None
    low_sample: bool
    rank: int | None
    in_tier_table: bool
    tier_ci: str | None
    tier_score: str | None
    rank_ci: int | None
    rank_score: int | None
    score: float | None
    outlier: bool


class MetaTotals(TypedDict):
    """The totals and tier lines of one (window, event group, basis)."""

    decks: int
    players: int
    matches: int
    seats: int
    archetypes: int
    covered: int
    coverage: Fraction
    tier_cut: Fraction | None
    ci_mean: Fraction | None
    ci_sd: float | None
    score_mean: float | None
    score_sd: float | None
    shrink_mean: Fraction | None
    shrink_strength: float | None
    # None for a window and group without data (no refresh row holds its rules).
    min_players: int | None
    min_decided: int | None


class MatchupCell(TypedDict):
    """One cell of a window's matchups, from the row archetype's side (``[A, A]`` holds A's
    mirror matches once each in ``mirrors``; its wins/losses/draws are 0)."""

    archetype: str
    opponent: str
    wins: int
    losses: int
    draws: int
    mirrors: int
    win_rate: Fraction | None
    cp_lower: Fraction | None
    cp_upper: Fraction | None


def field_names(row: type) -> tuple[str, ...]:
    """The fields of a row type, in declaration order."""
    return tuple(get_type_hints(row))


#: What the refresh stores and readers return, per row kind.
ARCHETYPE_STAT_FIELDS: Final = field_names(MetaRow)
TOTAL_STAT_FIELDS: Final = field_names(MetaTotals)
MATCHUP_CELL_FIELDS: Final = field_names(MatchupCell)
#: The meta row's fields an archetype list answer carries (``GET .../archetypes``).
ARCHETYPE_LIST_FIELDS: Final = (
    "archetype",
    "slug",
    "name_raw",
    "rankable",
    "rank",
    "decks",
    "players",
    "seats",
    "share_decks",
    "share_players",
    "share_seats",
    "coverage",
    "win_rate",
    "shrunk_win_rate",
    "low_sample",
    "tier_ci",
    "tier_score",
    "in_tier_table",
)
