"""The COPY buffers of one batch: tournaments, decks (with their card lines), standings and
matches, encoded as COPY text."""

from __future__ import annotations

from typing import Any

import psycopg

from pipelines.ingest import copy as c
from pipelines.ingest.merge import MergedEvent
from pipelines.ingest.prepare import (
    PreparedDeck,
    PreparedDocument,
)
from pipelines.ingest.state import CardIds, IngestState, copy_lines, reserve_ids


class EventRows:
    """COPY buffers of one batch: tournaments, decks, standings, matches."""

    def __init__(self, state: IngestState) -> None:
        self.state = state
        self.new_tournaments: list[str] = []
        self.updated_tournaments: list[tuple[Any, ...]] = []
        self.pending_decks: list[tuple[int, MergedEvent[PreparedDocument]]] = []
        self.deck_count = 0
        self.match_count = 0

    def add_tournament(self, tid: int, merged: MergedEvent[PreparedDocument], new: bool) -> None:
        state = self.state
        doc = merged.document
        values = (
            state.sources[doc.source],
            doc.external_id,
            doc.source_event_id,
            doc.name,
            doc.event_date,
            doc.starts_at,
            doc.format,
            doc.format_inferred,
            doc.event_kind,
            doc.uri or None,
            max(doc.player_count, len({d.player_key for d in merged.decks})),
            len(merged.decks),
            doc.match_count,
            state.documents[doc.sha256],
            doc.document_key,
        )
        if new:
            fields = [str(tid)] + [_cell(v) for v in values]
            self.new_tournaments.append(c.line(fields))
        else:
            self.updated_tournaments.append((*values, tid))
        self.pending_decks.append((tid, merged))

    def flush(self, conn: psycopg.Connection, cards: CardIds) -> None:
        copy_lines(
            conn,
            """COPY tournaments (id, source_id, external_id, source_event_id, name, event_date,
                   starts_at, format, format_inferred, event_kind, uri, player_count,
                   deck_count, match_count, document_id, document_key) FROM STDIN""",
            self.new_tournaments,
        )
        if self.updated_tournaments:
            with conn.cursor() as cur:
                cur.executemany(
                    """UPDATE tournaments SET source_id = %s, external_id = %s,
                           source_event_id = %s, name = %s, event_date = %s, starts_at = %s,
                           format = %s, format_inferred = %s, event_kind = %s, uri = %s,
                           player_count = %s, deck_count = %s, match_count = %s,
                           document_id = %s, document_key = %s, updated_at = now()
                       WHERE id = %s""",
                    self.updated_tournaments,
                )
        self._flush_children(conn, cards)

    def _flush_children(self, conn: psycopg.Connection, cards: CardIds) -> None:
        total = sum(len(m.decks) for _, m in self.pending_decks)
        deck_ids = iter(reserve_ids(conn, "decks", total))
        cards.conn = conn
        decks, standings, matches = [], [], []
        for tid, merged in self.pending_decks:
            by_player: dict[str, str] = {}
            for position, deck in enumerate(merged.decks):
                deck_id = str(next(deck_ids))
                by_player.setdefault(deck.player_key, deck_id)
                decks.append(_deck_line(deck_id, tid, position, deck, cards))
            doc = merged.document
            standings += [
                f"{tid}\t{position}\t{text}\t{by_player.get(key, c.NULL)}\n"
                for position, (text, key) in enumerate(doc.standings)
            ]
            matches += [
                f"{tid}\t{position}\t{text}\t{by_player.get(k1, c.NULL) if k1 else c.NULL}\t"
                f"{by_player.get(k2, c.NULL) if k2 else c.NULL}\n"
                for position, (text, k1, k2) in enumerate(doc.matches)
            ]
        cards.flush(conn)
        copy_lines(
            conn,
            """COPY decks (id, tournament_id, position, player, player_key, result, rank,
                   record_wins, record_losses, record_draws, anchor_uri, deck_date,
                   main_card_ids, main_counts, side_card_ids, side_counts, main_total,
                   side_total, decklist_hash) FROM STDIN""",
            decks,
        )
        copy_lines(
            conn,
            """COPY standings (tournament_id, position, rank, player, player_key, points, wins,
                   losses, draws, omwp, gwp, ogwp, deck_id) FROM STDIN""",
            standings,
        )
        copy_lines(
            conn,
            """COPY matches (tournament_id, position, round_index, round_name, player1,
                   player2, p1_games, p2_games, draw_games, is_bye, deck1_id, deck2_id)
                   FROM STDIN""",
            matches,
        )
        self.deck_count += len(decks)
        self.match_count += len(matches)


def _cell(value: Any) -> str:
    if value is None:
        return c.NULL
    if isinstance(value, bool):
        return c.boolean(value)
    if isinstance(value, int | float):
        return str(value)
    return c.text(str(value))


def _deck_line(deck_id: str, tid: int, position: int, deck: PreparedDeck, cards: CardIds) -> str:
    # Hot loop of the writer (one call per deck): only ids are filled in here (unknown
    # names get an id through CardIds.__missing__).
    board = cards.board
    return (
        f"{deck_id}\t{tid}\t{position}\t{deck.text}\t{{{board(deck.main_names)}}}\t"
        f"{deck.main_counts}\t{{{board(deck.side_names)}}}\t{deck.side_counts}\t{deck.totals}\n"
    )
