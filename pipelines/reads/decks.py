"""One deck: its row, decklist lines, current label, nearest archetype and similar decks
(``GET /api/v1/decks/{id}``, ``/decks/{id}/similar`` and the deck page). Every statement is a
primary-key or index read of one deck."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

_DECK_SQL = """
SELECT d.id, d.tournament_id, t.name AS tournament, t.event_date, t.format, t.event_kind,
       t.uri AS tournament_uri, d.position, d.player, d.rank, d.result,
       d.record_wins AS wins, d.record_losses AS losses, d.record_draws AS draws,
       d.anchor_uri, d.deck_date, d.main_total, d.side_total
  FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE d.id = %s
"""
# Lines in file order (duplicate lines kept, as the classifier counts them).
CARDS_SQL = """
SELECT 'main' AS board, x.ord, c.name, c.canonical_name, x.copies
  FROM decks d
 CROSS JOIN LATERAL unnest(d.main_card_ids, d.main_counts)
       WITH ORDINALITY AS x(card_id, copies, ord)
  JOIN cards c ON c.id = x.card_id
 WHERE d.id = %(id)s
UNION ALL
SELECT 'side', x.ord, c.name, c.canonical_name, x.copies
  FROM decks d
 CROSS JOIN LATERAL unnest(d.side_card_ids, d.side_counts)
       WITH ORDINALITY AS x(card_id, copies, ord)
  JOIN cards c ON c.id = x.card_id
 WHERE d.id = %(id)s
 ORDER BY 1, 2
"""
LABEL_SQL = """
SELECT a.archetype, a.definition, a.variant, a.color, a.companion, a.method, a.score,
       a.candidates, v.version AS definitions_version
  FROM current_deck_archetypes a JOIN definition_versions v ON v.id = a.version_id
 WHERE a.deck_id = %s
 ORDER BY a.version_id DESC LIMIT 1
"""
# Precomputed by the discovery worker (pipelines.discovery.store): primary-key reads only.
_NEAREST_SQL = """
SELECT archetype, similarity FROM deck_nearest_archetype WHERE deck_id = %s
"""
_FORMAT_SQL = """
SELECT t.format FROM decks d JOIN tournaments t ON t.id = d.tournament_id WHERE d.id = %s
"""
SIMILAR_SQL = """
SELECT n.rank, n.neighbour_id AS id, n.similarity, t.event_date, t.name AS tournament, d.player,
       -- One current label per deck; no ORDER BY, so the planner uses the deck_id index
       -- (ordering by version_id walked the primary key backwards: 25x slower).
       coalesce((SELECT a.archetype FROM current_deck_archetypes a WHERE a.deck_id = d.id
                  LIMIT 1), 'Unknown') AS archetype
  FROM deck_neighbours n
  JOIN decks d ON d.id = n.neighbour_id
  JOIN tournaments t ON t.id = d.tournament_id
 WHERE n.deck_id = %(id)s AND n.rank <= %(k)s
 ORDER BY n.rank
"""


def deck(conn: psycopg.Connection[Any], deck_id: int) -> dict[str, Any] | None:
    """A deck with its main and side lines, current label and nearest labelled archetype
    (Unknown decks only); None when absent. The classifier's explanation is the caller's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_DECK_SQL, (deck_id,)).fetchone()
        if row is None:
            return None
        cards = cur.execute(CARDS_SQL, {"id": deck_id}).fetchall()
        label = cur.execute(LABEL_SQL, (deck_id,)).fetchone()
        nearest = cur.execute(_NEAREST_SQL, (deck_id,)).fetchone()
    boards: dict[str, list[dict[str, Any]]] = {"main": [], "side": []}
    for line in cards:
        boards[line["board"]].append(
            {"card": line["name"], "canonical": line["canonical_name"], "count": line["copies"]}
        )
    return {
        **row,
        "main": boards["main"],
        "side": boards["side"],
        "classification": label,
        "nearest_archetype": nearest,  # Unknown decks only (issue 17)
    }


def similar(conn: psycopg.Connection[Any], deck_id: int, k: int) -> dict[str, Any] | None:
    """The ``k`` nearest decks (precomputed by discovery); None when the deck is absent."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_FORMAT_SQL, (deck_id,)).fetchone()
        if row is None:
            return None
        items = cur.execute(SIMILAR_SQL, {"id": deck_id, "k": k}).fetchall()
    return {"deck_id": deck_id, "format": row["format"], "items": items}
