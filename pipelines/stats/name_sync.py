"""Keep ``archetype_names`` (display name and stable slug of every classifier label) current.

The refresh calls :func:`sync_archetype_names` before filling the statistics tables, in its
transaction, so ``mv_deck_facts`` groups decks by display name (two spellings of one name are
one archetype) and every name served has a slug. Rows are only ever added: a slug, once
published in a URL, keeps working. Readers resolve a request's archetype segment with
:func:`resolve_archetype` (by slug, or by any spelling whose display name matches).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

import psycopg

from pipelines.stats.names import UNKNOWN_LABEL, assign_slugs, display_name, lookup_key, slugify

__all__ = ["ArchetypeName", "name_table", "resolve_archetype", "sync_archetype_names"]

# Labels of the active definitions actually used by decks, plus 'Unknown' (unlabelled decks)
# for every format with decks.
_LABELS_SQL = """
SELECT DISTINCT t.format, l.archetype
  FROM current_deck_archetypes l
  JOIN decks d ON d.id = l.deck_id
  JOIN tournaments t ON t.id = d.tournament_id
UNION
SELECT DISTINCT format, %(unknown)s FROM tournaments
"""
# The same for the tournaments of a refresh's scope (pipelines.stats.aggregates): a label
# only appears through a change of labels, which marks its decks' days dirty.
_SCOPED_LABELS_SQL = """
SELECT DISTINCT t.format, l.archetype
  FROM current_deck_archetypes l
  JOIN decks d ON d.id = l.deck_id
  JOIN tournaments t ON t.id = d.tournament_id
 WHERE t.id IN (SELECT id FROM refresh_tournaments)
UNION
SELECT DISTINCT format, %(unknown)s FROM tournaments
 WHERE id IN (SELECT id FROM refresh_tournaments)
"""


class ArchetypeName(NamedTuple):
    """One archetype's identity within a format."""

    name: str
    slug: str
    name_raw: str


def sync_archetype_names(conn: psycopg.Connection[Any], *, scoped: bool = False) -> int:
    """Add a row for every (format, label) not in ``archetype_names`` yet; returns how many.

    ``scoped``: only the labels of the decks of ``refresh_tournaments`` (a refresh's scope).

    A new label whose display name already exists in the format reuses that name's slug;
    otherwise :func:`pipelines.stats.names.assign_slugs` picks one not taken in the format.
    The caller commits.
    """
    known: dict[str, dict[str, str]] = defaultdict(dict)  # format -> name -> slug
    raw_known: set[tuple[str, str]] = set()
    for fmt, raw, name, slug in conn.execute(
        "SELECT format, name_raw, name, slug FROM archetype_names"
    ):
        known[fmt][name] = slug
        raw_known.add((fmt, raw))
    new = [
        (fmt, raw)
        for fmt, raw in conn.execute(
            _SCOPED_LABELS_SQL if scoped else _LABELS_SQL, {"unknown": UNKNOWN_LABEL}
        )
        if raw is not None and (fmt, raw) not in raw_known
    ]
    if not new:
        return 0
    by_format: dict[str, list[str]] = defaultdict(list)
    for fmt, raw in new:
        by_format[fmt].append(raw)
    rows: list[tuple[str, str, str, str]] = []
    for fmt, raws in sorted(by_format.items()):
        names = {raw: display_name(raw) for raw in raws}
        known[fmt].update(assign_slugs(known[fmt], names.values()))
        rows.extend((fmt, raw, names[raw], known[fmt][names[raw]]) for raw in sorted(raws))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO archetype_names (format, name_raw, name, slug) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            rows,
        )
    return len(rows)


def name_table(
    conn: psycopg.Connection[Any], formats: list[str]
) -> dict[tuple[str, str], ArchetypeName]:
    """``(format, display name) -> ArchetypeName`` for ``formats``; ``name_raw`` is the
    first spelling (in code-point order) when several labels share a display name."""
    out: dict[tuple[str, str], ArchetypeName] = {}
    for fmt, raw, name, slug in conn.execute(
        "SELECT format, name_raw, name, slug FROM archetype_names WHERE format = ANY(%s)"
        ' ORDER BY format, name, name_raw COLLATE "C"',
        (formats,),
    ):
        out.setdefault((fmt, name), ArchetypeName(name, slug, raw))
    return out


def identity(names: dict[tuple[str, str], ArchetypeName], fmt: str, name: str) -> ArchetypeName:
    """The identity of a display name; a name the table does not know yet (classified after
    the last sync) gets its computed slug."""
    return names.get((fmt, name)) or ArchetypeName(name, slugify(name), name)


def resolve_archetype(conn: psycopg.Connection[Any], fmt: str, segment: str) -> str | None:
    """The display name a URL segment designates in ``fmt``: a slug, or any spelling whose
    display name matches (case-insensitively); ``None`` when nothing matches."""
    rows = conn.execute(
        "SELECT name, slug, name_raw FROM archetype_names WHERE format = %s", (fmt,)
    ).fetchall()
    for name, slug, _ in rows:
        if slug == segment:
            return str(name)
    wanted = lookup_key(segment)
    for name, _, raw in rows:
        if lookup_key(name) == wanted or lookup_key(raw) == wanted:
            return str(name)
    return None
