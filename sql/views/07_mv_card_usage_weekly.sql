-- mv_card_usage_weekly: card usage per (format, Monday, event kind, archetype, board) as a
-- copies -> decks distribution in three parallel arrays, sorted by (card_id, copies):
--   card_ids[i]  canonical card id: the smallest cards.id sharing the card's canonical_name
--                (join cards on id for the name); a card's duplicate lines in one board
--                are summed first, so a deck counts once per card and board;
--   copies[i]    a copy count;
--   decks[i]     decks of the group running exactly copies[i] copies of card_ids[i];
--   wins[i], losses[i]          their summed non-mirror counted results (matches basis);
--   rec_wins[i], rec_losses[i]  their summed records (records basis) — card performance
--                inside the archetype (METHODOLOGY.md §9), against the archetype's totals
--                of the same weeks in mv_deck_size_weekly.
-- Over any set of weeks and event kinds, per card: decks running it = Σ decks, total copies
-- = Σ copies × decks, average copies when present = total / running, most common count =
-- the copies with the largest Σ decks (smallest on ties) — all exact. The share
-- denominator (the archetype's decks) comes from mv_deck_size_weekly over the same rows.
-- Why arrays rather than one row per (card, copies): the sample has ~170k such rows and
-- writing a row costs far more than aggregating it; one row per (group, board) keeps the
-- table at a few thousand rows.
-- How: the half million card lines are grouped on integers only (g numbers the (format,
-- week, kind, archetype) groups; sorting text under the database's libc collation is
-- several times slower). Summing a card's lines per deck is only needed for the few boards
-- that list a card id twice or hold a card whose canonical name is shared with another id
-- (needs_merge); every other board's lines are counted as they are.
-- board: 'main' or 'side'.
-- Fills the weeks in refresh_weeks (the Mondays of the days refreshed).
-- This statement is the DEFINITION; the refresh computes the same rows in NumPy
-- (pipelines/stats/card_usage.py: the ~16 million card lines of the 500k-deck archive made
-- this statement spill to disk for 30-70 s). tests/integration/test_card_usage_fill.py
-- checks that both give exactly the same rows.
INSERT INTO mv_card_usage_weekly
WITH canon AS (
    SELECT id, min(id) OVER w AS card_id, count(*) OVER w AS names
      FROM cards
    WINDOW w AS (PARTITION BY canonical_name)
), shared AS (
    SELECT coalesce(array_agg(id), '{}') AS ids FROM canon WHERE names > 1
), deck AS (
    SELECT deck_id, format, week_start, event_kind, archetype, wins, losses,
           coalesce(rec_wins, 0) AS rec_wins, coalesce(rec_losses, 0) AS rec_losses,
           dense_rank() OVER (ORDER BY format, week_start, event_kind, archetype) AS g
      FROM mv_deck_facts
     WHERE (format, week_start) IN (SELECT format, week_start FROM refresh_weeks)
), board AS (
    SELECT f.g, d.id AS deck_id, f.wins, f.losses, f.rec_wins, f.rec_losses,
           b.side, b.card_ids, b.counts,
           b.card_ids && s.ids
           OR (SELECT count(DISTINCT c) FROM unnest(b.card_ids) AS c) <> cardinality(b.card_ids)
               AS needs_merge
      FROM decks d
      JOIN deck f ON f.deck_id = d.id
      CROSS JOIN shared s
      CROSS JOIN LATERAL (VALUES (false, d.main_card_ids, d.main_counts),
                                 (true, d.side_card_ids, d.side_counts))
                 AS b(side, card_ids, counts)
), line AS (
    SELECT b.g, b.side, u.card_id, u.copies, b.wins, b.losses, b.rec_wins, b.rec_losses
      FROM board b, unnest(b.card_ids, b.counts) AS u(card_id, copies)
     WHERE NOT b.needs_merge AND u.copies > 0
    UNION ALL
    SELECT b.g, b.side, k.card_id, sum(u.copies)::int, b.wins, b.losses, b.rec_wins,
           b.rec_losses
      FROM board b, unnest(b.card_ids, b.counts) AS u(card_id, copies)
      JOIN canon k ON k.id = u.card_id
     WHERE b.needs_merge
     GROUP BY b.g, b.deck_id, b.side, k.card_id, b.wins, b.losses, b.rec_wins, b.rec_losses
    HAVING sum(u.copies) > 0
), dist AS (
    SELECT g, side, card_id, copies, count(*)::int AS decks,
           sum(wins)::int AS wins, sum(losses)::int AS losses,
           sum(rec_wins)::int AS rec_wins, sum(rec_losses)::int AS rec_losses
      FROM line
     GROUP BY g, side, card_id, copies
), arrays AS (
    SELECT g, side,
           array_agg(card_id ORDER BY card_id, copies) AS card_ids,
           array_agg(copies ORDER BY card_id, copies) AS copies,
           array_agg(decks ORDER BY card_id, copies) AS decks,
           array_agg(wins ORDER BY card_id, copies) AS wins,
           array_agg(losses ORDER BY card_id, copies) AS losses,
           array_agg(rec_wins ORDER BY card_id, copies) AS rec_wins,
           array_agg(rec_losses ORDER BY card_id, copies) AS rec_losses
      FROM dist
     GROUP BY g, side
), grp AS (
    SELECT DISTINCT g, format, week_start, event_kind, archetype FROM deck
)
SELECT grp.format, grp.week_start, grp.event_kind, grp.archetype,
       CASE WHEN a.side THEN 'side' ELSE 'main' END AS board,
       a.card_ids, a.copies, a.decks, a.wins, a.losses, a.rec_wins, a.rec_losses
  FROM arrays a
  JOIN grp ON grp.g = a.g;
