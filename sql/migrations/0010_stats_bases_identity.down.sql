-- Reverse of 0010_stats_bases_identity.up.sql: the views as 0003 defined them, the tables'
-- former columns and keys. Derived rows are deleted (the next refresh rewrites them).
SET LOCAL jit = off;

DROP MATERIALIZED VIEW mv_deck_size_weekly;
DROP MATERIALIZED VIEW mv_card_usage_weekly;
DROP MATERIALIZED VIEW mv_matchup_daily;
DROP MATERIALIZED VIEW mv_archetype_color_daily;
DROP MATERIALIZED VIEW mv_archetype_daily;
DROP MATERIALIZED VIEW mv_player_archetype_daily;
DROP MATERIALIZED VIEW mv_deck_facts;
DROP VIEW v_match_sides;

DELETE FROM matchup_window_stats;
DELETE FROM meta_window_stats;
DELETE FROM meta_window_totals;
DELETE FROM stats_windows;

ALTER TABLE matchup_window_stats DROP COLUMN mirrors;

ALTER TABLE meta_window_totals DROP CONSTRAINT meta_window_totals_pkey;
ALTER TABLE meta_window_totals
    DROP COLUMN basis, DROP COLUMN seats, DROP COLUMN covered, DROP COLUMN coverage,
    DROP COLUMN shrink_mean, DROP COLUMN shrink_strength, DROP COLUMN min_players,
    DROP COLUMN min_decided;
ALTER TABLE meta_window_totals ADD PRIMARY KEY (generation, format, window_key, event_group);
COMMENT ON COLUMN meta_window_totals.tier_cut IS NULL;

DROP INDEX ix_meta_window_stats_slug;
ALTER TABLE meta_window_stats DROP CONSTRAINT meta_window_stats_pkey;
ALTER TABLE meta_window_stats
    DROP COLUMN basis, DROP COLUMN slug, DROP COLUMN name_raw, DROP COLUMN rankable,
    DROP COLUMN decided_players, DROP COLUMN covered, DROP COLUMN coverage,
    DROP COLUMN decided_per_deck, DROP COLUMN ci_method, DROP COLUMN low_sample,
    DROP COLUMN shrunk_win_rate;
ALTER TABLE meta_window_stats ALTER COLUMN rank SET NOT NULL;
ALTER TABLE meta_window_stats RENAME COLUMN seats TO matches;
ALTER TABLE meta_window_stats RENAME COLUMN share_seats TO share_matches;
ALTER TABLE meta_window_stats
    ADD PRIMARY KEY (generation, format, window_key, event_group, archetype);

DROP TABLE archetype_names;

-- as in 0003: sql/views/01_v_match_sides.sql
-- v_match_sides: every match that enters the statistics, once from each deck's side.
-- A plain view (nothing to refresh); it is the single definition of a "counted match" for
-- mv_deck_facts and mv_matchup_daily. Excluded (METHODOLOGY.md §2 and §12):
--   * byes (is_bye);
--   * matches against a player without a decklist (deck1_id or deck2_id NULL);
--   * unplayed / unreported rounds recorded as 0-0-0.
-- result: 1 = this deck won more games, -1 = fewer, 0 = a draw (equal game wins).
CREATE VIEW v_match_sides AS
SELECT m.id AS match_id, 1::smallint AS side, m.tournament_id,
       m.deck1_id AS deck_id, m.deck2_id AS opp_deck_id,
       sign(m.p1_games - m.p2_games)::smallint AS result
  FROM matches m
 WHERE NOT m.is_bye
   AND m.deck1_id IS NOT NULL AND m.deck2_id IS NOT NULL
   AND m.p1_games + m.p2_games + m.draw_games > 0
UNION ALL
SELECT m.id, 2::smallint, m.tournament_id,
       m.deck2_id, m.deck1_id,
       sign(m.p2_games - m.p1_games)::smallint
  FROM matches m
 WHERE NOT m.is_bye
   AND m.deck1_id IS NOT NULL AND m.deck2_id IS NOT NULL
   AND m.p1_games + m.p2_games + m.draw_games > 0;

-- as in 0003: sql/views/02_mv_deck_facts.sql
-- mv_deck_facts: one row per deck with everything the other views group by (format, day,
-- Monday of the week, event kind, player, archetype label, colour) and its counted results.
-- Base of every other statistics view: refreshed first.
--   * label: the deck's row in current_deck_archetypes; a deck without one is 'Unknown'
--     (colour 'Unknown'). DISTINCT ON guards against a deck labelled under two active
--     versions (newest version wins) so a classification slip cannot double-count a deck.
--   * wins/losses/draws: counted matches (v_match_sides) against a *different* archetype;
--     mirror_seats: counted matches against the same archetype (a mirror between two decks
--     gives each deck one seat, so an archetype's mirror matches = Σ mirror_seats / 2).
--   * record_*: the deck's own record for "best decks" lists: its standing when it has one,
--     else its "W-L" result string, else its counted matches (mirrors included).
CREATE MATERIALIZED VIEW mv_deck_facts AS
WITH label AS (
    SELECT DISTINCT ON (deck_id) deck_id, archetype, color, companion
      FROM current_deck_archetypes
     ORDER BY deck_id, version_id DESC
), standing AS (
    SELECT DISTINCT ON (deck_id) deck_id, wins, losses, draws
      FROM standings
     WHERE deck_id IS NOT NULL AND wins IS NOT NULL AND losses IS NOT NULL
     ORDER BY deck_id, tournament_id, position
), deck AS (
    SELECT d.id AS deck_id, d.tournament_id, t.format, t.event_date,
           date_trunc('week', t.event_date)::date AS week_start, t.event_kind,
           d.player_key,
           coalesce(l.archetype, 'Unknown') AS archetype,
           coalesce(l.color, 'Unknown') AS color,
           coalesce(l.companion, '') AS companion,
           d.main_total, d.side_total, d.rank,
           d.record_wins, d.record_losses, d.record_draws
      FROM decks d
      JOIN tournaments t ON t.id = d.tournament_id
      LEFT JOIN label l ON l.deck_id = d.id
), result AS (
    SELECT s.deck_id,
           count(*) FILTER (WHERE s.result > 0 AND a.archetype <> o.archetype) AS wins,
           count(*) FILTER (WHERE s.result < 0 AND a.archetype <> o.archetype) AS losses,
           count(*) FILTER (WHERE s.result = 0 AND a.archetype <> o.archetype) AS draws,
           count(*) FILTER (WHERE a.archetype = o.archetype) AS mirror_seats,
           count(*) FILTER (WHERE s.result > 0) AS all_wins,
           count(*) FILTER (WHERE s.result < 0) AS all_losses,
           count(*) FILTER (WHERE s.result = 0) AS all_draws
      FROM v_match_sides s
      JOIN deck a ON a.deck_id = s.deck_id
      JOIN deck o ON o.deck_id = s.opp_deck_id
     GROUP BY s.deck_id
)
SELECT deck.deck_id, deck.tournament_id, deck.format, deck.event_date, deck.week_start,
       deck.event_kind, deck.player_key, deck.archetype, deck.color, deck.companion,
       deck.main_total, deck.side_total, deck.rank,
       coalesce(r.wins, 0)::int AS wins,
       coalesce(r.losses, 0)::int AS losses,
       coalesce(r.draws, 0)::int AS draws,
       coalesce(r.mirror_seats, 0)::int AS mirror_seats,
       CASE WHEN st.deck_id IS NOT NULL THEN 'standings'
            WHEN deck.record_wins IS NOT NULL THEN 'result'
            ELSE 'matches' END AS record_source,
       CASE WHEN st.deck_id IS NOT NULL THEN st.wins
            WHEN deck.record_wins IS NOT NULL THEN deck.record_wins
            ELSE coalesce(r.all_wins, 0)::int END AS record_wins,
       CASE WHEN st.deck_id IS NOT NULL THEN st.losses
            WHEN deck.record_wins IS NOT NULL THEN coalesce(deck.record_losses, 0)
            ELSE coalesce(r.all_losses, 0)::int END AS record_losses,
       CASE WHEN st.deck_id IS NOT NULL THEN coalesce(st.draws, 0)
            WHEN deck.record_wins IS NOT NULL THEN coalesce(deck.record_draws, 0)
            ELSE coalesce(r.all_draws, 0)::int END AS record_draws
  FROM deck
  LEFT JOIN result r ON r.deck_id = deck.deck_id
  LEFT JOIN standing st ON st.deck_id = deck.deck_id
WITH DATA;

CREATE UNIQUE INDEX ux_mv_deck_facts ON mv_deck_facts (deck_id);
-- "Recent best decks" of an archetype and per-format scans.
CREATE INDEX ix_mv_deck_facts_archetype ON mv_deck_facts (format, archetype, event_date);

-- as in 0003: sql/views/03_mv_player_archetype_daily.sql
-- mv_player_archetype_daily: per (format, day, event kind, archetype, player) the player's
-- decks and counted results with that archetype. Distinct players cannot be summed across
-- days, so every window (standard or custom) aggregates this grain: players = distinct
-- player_key, and the per-player (W, L) feed the player-clustered CR2 interval exactly.
CREATE MATERIALIZED VIEW mv_player_archetype_daily AS
SELECT format, event_date, event_kind, archetype, player_key,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws,
       sum(mirror_seats)::int AS mirror_seats
  FROM mv_deck_facts
 GROUP BY format, event_date, event_kind, archetype, player_key
WITH DATA;

CREATE UNIQUE INDEX ux_mv_player_archetype_daily
    ON mv_player_archetype_daily (format, event_date, event_kind, archetype, player_key);

-- as in 0003: sql/views/04_mv_archetype_daily.sql
-- mv_archetype_daily: per (format, day, event kind, archetype): decks, distinct players of
-- that day, counted results (mirrors excluded from W/L/D), mirror matches and match seats
-- (matches = wins + losses + draws + 2 × mirrors: a mirror seats the archetype twice).
-- Everything but players sums across days and event kinds; use
-- mv_player_archetype_daily for players over several days.
CREATE MATERIALIZED VIEW mv_archetype_daily AS
SELECT format, event_date, event_kind, archetype,
       sum(decks)::int AS decks,
       count(*)::int AS players,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws,
       (sum(mirror_seats) / 2)::int AS mirrors,
       sum(wins + losses + draws + mirror_seats)::int AS matches
  FROM mv_player_archetype_daily
 GROUP BY format, event_date, event_kind, archetype
WITH DATA;

CREATE UNIQUE INDEX ux_mv_archetype_daily
    ON mv_archetype_daily (format, event_date, event_kind, archetype);

-- as in 0003: sql/views/05_mv_archetype_color_daily.sql
-- mv_archetype_color_daily: the colour split of each archetype per (format, day, event
-- kind): decks and counted non-mirror results per colour code ('Unknown' for unlabelled
-- decks).
CREATE MATERIALIZED VIEW mv_archetype_color_daily AS
SELECT format, event_date, event_kind, archetype, color,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws
  FROM mv_deck_facts
 GROUP BY format, event_date, event_kind, archetype, color
WITH DATA;

CREATE UNIQUE INDEX ux_mv_archetype_color_daily
    ON mv_archetype_color_daily (format, event_date, event_kind, archetype, color);

-- as in 0003: sql/views/06_mv_matchup_daily.sql
-- mv_matchup_daily: matchup cells per (format, day, event kind, archetype, opponent
-- archetype), every counted match once from each side: [A, B] holds A's wins, losses and
-- draws against B and [B, A] the mirror image. The diagonal [A, A] holds A's mirror
-- matches from both sides (a decisive mirror = one win + one loss, a drawn one = 2 draws).
CREATE MATERIALIZED VIEW mv_matchup_daily AS
SELECT a.format, a.event_date, a.event_kind, a.archetype, o.archetype AS opponent,
       count(*) FILTER (WHERE s.result > 0)::int AS wins,
       count(*) FILTER (WHERE s.result < 0)::int AS losses,
       count(*) FILTER (WHERE s.result = 0)::int AS draws
  FROM v_match_sides s
  JOIN mv_deck_facts a ON a.deck_id = s.deck_id
  JOIN mv_deck_facts o ON o.deck_id = s.opp_deck_id
 GROUP BY a.format, a.event_date, a.event_kind, a.archetype, o.archetype
WITH DATA;

CREATE UNIQUE INDEX ux_mv_matchup_daily
    ON mv_matchup_daily (format, event_date, event_kind, archetype, opponent);

-- as in 0003: sql/views/07_mv_card_usage_weekly.sql
-- mv_card_usage_weekly: card usage per (format, Monday, event kind, archetype, board) as a
-- copies -> decks distribution in three parallel arrays, sorted by (card_id, copies):
--   card_ids[i]  canonical card id: the smallest cards.id sharing the card's canonical_name
--                (join cards on id for the name); a card's duplicate lines in one board
--                are summed first, so a deck counts once per card and board;
--   copies[i]    a copy count;
--   decks[i]     decks of the group running exactly copies[i] copies of card_ids[i].
-- Over any set of weeks and event kinds, per card: decks running it = Σ decks, total copies
-- = Σ copies × decks, average copies when present = total / running, most common count =
-- the copies with the largest Σ decks (smallest on ties) — all exact. The share
-- denominator (the archetype's decks) comes from mv_deck_size_weekly over the same rows.
-- Why arrays rather than one row per (card, copies): the sample has ~170k such rows and
-- REFRESH ... CONCURRENTLY compares every row of the old and new contents (PostgreSQL 15:
-- ~20 µs a row here); one row per (group, board) keeps the view at a few thousand rows.
-- How: the half million card lines are grouped on integers only (g numbers the (format,
-- week, kind, archetype) groups; sorting text under the database's libc collation is
-- several times slower). Summing a card's lines per deck is only needed for the few boards
-- that list a card id twice or hold a card whose canonical name is shared with another id
-- (needs_merge); every other board's lines are counted as they are.
-- board: 'main' or 'side'.
CREATE MATERIALIZED VIEW mv_card_usage_weekly AS
WITH canon AS (
    SELECT id, min(id) OVER w AS card_id, count(*) OVER w AS names
      FROM cards
    WINDOW w AS (PARTITION BY canonical_name)
), shared AS (
    SELECT coalesce(array_agg(id), '{}') AS ids FROM canon WHERE names > 1
), deck AS (
    SELECT deck_id, format, week_start, event_kind, archetype,
           dense_rank() OVER (ORDER BY format, week_start, event_kind, archetype) AS g
      FROM mv_deck_facts
), board AS (
    SELECT f.g, d.id AS deck_id, b.side, b.card_ids, b.counts,
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
    SELECT b.g, b.side, u.card_id, u.copies
      FROM board b, unnest(b.card_ids, b.counts) AS u(card_id, copies)
     WHERE NOT b.needs_merge AND u.copies > 0
    UNION ALL
    SELECT b.g, b.side, k.card_id, sum(u.copies)::int
      FROM board b, unnest(b.card_ids, b.counts) AS u(card_id, copies)
      JOIN canon k ON k.id = u.card_id
     WHERE b.needs_merge
     GROUP BY b.g, b.deck_id, b.side, k.card_id
    HAVING sum(u.copies) > 0
), dist AS (
    SELECT g, side, card_id, copies, count(*)::int AS decks
      FROM line
     GROUP BY g, side, card_id, copies
), arrays AS (
    SELECT g, side,
           array_agg(card_id ORDER BY card_id, copies) AS card_ids,
           array_agg(copies ORDER BY card_id, copies) AS copies,
           array_agg(decks ORDER BY card_id, copies) AS decks
      FROM dist
     GROUP BY g, side
), grp AS (
    SELECT DISTINCT g, format, week_start, event_kind, archetype FROM deck
)
SELECT grp.format, grp.week_start, grp.event_kind, grp.archetype,
       CASE WHEN a.side THEN 'side' ELSE 'main' END AS board,
       a.card_ids, a.copies, a.decks
  FROM arrays a
  JOIN grp ON grp.g = a.g
WITH DATA;

CREATE UNIQUE INDEX ux_mv_card_usage_weekly
    ON mv_card_usage_weekly (format, week_start, event_kind, archetype, board);

-- as in 0003: sql/views/08_mv_deck_size_weekly.sql
-- mv_deck_size_weekly: decks per (format, Monday, event kind, archetype, mainboard total,
-- sideboard total). Gives the archetype's deck count for the card-usage weeks (the share
-- denominator) and the most common board sizes of the stock decklist.
CREATE MATERIALIZED VIEW mv_deck_size_weekly AS
SELECT format, week_start, event_kind, archetype, main_total, side_total,
       count(*)::int AS decks
  FROM mv_deck_facts
 GROUP BY format, week_start, event_kind, archetype, main_total, side_total
WITH DATA;

CREATE UNIQUE INDEX ux_mv_deck_size_weekly
    ON mv_deck_size_weekly (format, week_start, event_kind, archetype, main_total, side_total);
