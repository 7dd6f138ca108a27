"""What moved between two definitions versions of a format (``classify diff``)."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.classify.versions import ClassificationError
from pipelines.core import db


@dataclass(frozen=True)
class LabelMove:
    """One line of a diff: how many decks went from one label to another."""

    old: str
    new: str
    decks: int


def diff_versions(dsn: str, format_name: str, old: str, new: str) -> list[LabelMove]:
    """Decks per (old label -> new label) between two versions (prefixes of hashes work)."""
    with db.connect(dsn) as conn:
        ids = []
        for version in (old, new):
            rows = conn.execute(
                "SELECT id FROM definition_versions WHERE format = %s AND version LIKE %s",
                (format_name, version + "%"),
            ).fetchall()
            if len(rows) != 1:
                raise ClassificationError(
                    f"version {version!r} of {format_name} is {'ambiguous' if rows else 'unknown'}"
                )
            ids.append(rows[0][0])
        rows = conn.execute(
            """SELECT coalesce(a.archetype, '(not labelled)'), coalesce(b.archetype,
                      '(not labelled)'), count(*)
                 FROM deck_archetypes a FULL JOIN deck_archetypes b
                   ON b.deck_id = a.deck_id AND b.version_id = %s
                WHERE (a.version_id = %s OR a.version_id IS NULL)
                  AND (b.version_id = %s OR b.version_id IS NULL)
                GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""",
            (ids[1], ids[0], ids[1]),
        ).fetchall()
    return [LabelMove(o, n, int(k)) for o, n, k in rows]


def render_diff(moves: list[LabelMove]) -> str:
    """Text summary: changed labels first, then how many stayed."""
    changed = [m for m in moves if m.old != m.new]
    same = sum(m.decks for m in moves if m.old == m.new)
    lines = [f"{m.decks:6d}  {m.old}  ->  {m.new}" for m in changed]
    lines.append(f"{same:6d}  unchanged; {sum(m.decks for m in changed)} changed")
    return "\n".join(lines)
