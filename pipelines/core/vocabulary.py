"""The shared vocabulary of ingestion, statistics and the API: event kinds, event groups,
the standard windows and the source names. One place for each list; the migrations that
created the matching database objects (the ``tournaments.event_kind`` check,
``stats_event_groups``) are frozen snapshots, and ``tests/integration/test_stats_views.py``
checks that the database equals these constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "CURRENT_WINDOW",
    "DEFAULT_EVENT_GROUP",
    "EVENT_GROUPS",
    "EVENT_KINDS",
    "ROLLING_WINDOW_DAYS",
    "SOURCE_NAMES",
    "STANDARD_WINDOW_KEYS",
]

#: Every kind of event a tournament can be (``tournaments.event_kind``; DOMAIN.md §2.11):
#: the MTGO kinds recognised from the event name, then ``other`` (any other MTGO event),
#: ``paper`` (Melee, Topdeck…) and ``series`` (Manatraders).
EVENT_KINDS: Final = (
    "league",
    "challenge",
    "preliminary",
    "showcase",
    "qualifier",
    "last_chance",
    "trial",
    "other",
    "paper",
    "series",
)

#: Event kinds of each event group (the ``stats_event_groups`` table). ``all`` leaves out
#: MTGO leagues (METHODOLOGY.md §12).
EVENT_GROUPS: Final[Mapping[str, frozenset[str]]] = {
    "all": frozenset(EVENT_KINDS) - {"league"},
    "challenges": frozenset({"challenge"}),
    "leagues": frozenset({"league"}),
    "qualifiers": frozenset({"qualifier", "showcase", "last_chance", "trial", "preliminary"}),
    "paper": frozenset({"paper", "series"}),
}
DEFAULT_EVENT_GROUP: Final = "all"

#: The rolling windows the API offers ("last N days").
ROLLING_WINDOW_DAYS: Final = (7, 14, 30, 90)
CURRENT_WINDOW: Final = "current"
#: Window keys in display order: the current meta period, then the rolling windows.
STANDARD_WINDOW_KEYS: Final = (CURRENT_WINDOW, *(f"last{n}" for n in ROLLING_WINDOW_DAYS))

#: The sources the collector knows (the ``SOURCES`` setting, ``/admin/sources/{name}/fetch``,
#: ``manalytics sources``).
SOURCE_NAMES: Final = ("gitcache", "mtgo", "melee", "topdeck", "cardsrealm", "manatraders")
