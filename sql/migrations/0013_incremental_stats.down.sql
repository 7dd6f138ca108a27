-- Back to the statistics materialized views of 0010 (filled at creation).
SET LOCAL jit = off;

DROP TRIGGER stats_dirty_tournaments_ins ON tournaments;
DROP TRIGGER stats_dirty_tournaments_upd ON tournaments;
DROP TRIGGER stats_dirty_tournaments_del ON tournaments;
DROP TRIGGER stats_dirty_decks_ins ON decks;
DROP TRIGGER stats_dirty_decks_upd ON decks;
DROP TRIGGER stats_dirty_decks_del ON decks;
DROP TRIGGER stats_dirty_standings_ins ON standings;
DROP TRIGGER stats_dirty_standings_upd ON standings;
DROP TRIGGER stats_dirty_standings_del ON standings;
DROP TRIGGER stats_dirty_matches_ins ON matches;
DROP TRIGGER stats_dirty_matches_upd ON matches;
DROP TRIGGER stats_dirty_matches_del ON matches;
DROP TRIGGER stats_dirty_labels_ins ON deck_archetypes;
DROP TRIGGER stats_dirty_labels_upd ON deck_archetypes;
DROP TRIGGER stats_dirty_labels_del ON deck_archetypes;
DROP TRIGGER stats_dirty_versions_ins ON active_definitions;
DROP TRIGGER stats_dirty_versions_upd ON active_definitions;
DROP TRIGGER stats_dirty_versions_del ON active_definitions;
DROP TRIGGER stats_dirty_cards_ins ON cards;
DROP TRIGGER stats_dirty_cards_upd ON cards;
DROP TRIGGER stats_dirty_cards_del ON cards;
DROP FUNCTION stats_dirty_tournaments();
DROP FUNCTION stats_dirty_event_rows();
DROP FUNCTION stats_dirty_labels();
DROP FUNCTION stats_dirty_versions();
DROP FUNCTION stats_dirty_cards();
DROP FUNCTION stats_mark_days(text[], date[]);
DROP TABLE stats_dirty_days;
ALTER TABLE refresh_log DROP COLUMN kind, DROP COLUMN days, DROP COLUMN rules;

DROP TABLE mv_deck_size_weekly;
DROP TABLE mv_card_usage_weekly;
DROP TABLE mv_matchup_daily;
DROP TABLE mv_archetype_color_daily;
DROP TABLE mv_archetype_daily;
DROP TABLE mv_player_archetype_daily;
DROP TABLE mv_deck_facts;

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
--   * archetype: the label's display name (archetype_names, filled by the refresh before the
--     views; the label itself until then); name_raw: the label as classified.
--   * counted: the deck's counted matches, mirrors included (matches-basis coverage).
--   * rec_*: the records basis (METHODOLOGY.md §4): the standing (else the "W-L" result) of
--     the deck minus its bye rounds (a bye is a win in MTGO and Melee standings; a bye
--     recorded as a loss is a forfeit; 0-0-0 byes were never reported); NULL without a
--     standing or result record.
CREATE MATERIALIZED VIEW mv_deck_facts AS
WITH label AS (
    SELECT DISTINCT ON (deck_id) deck_id, archetype, color, companion
      FROM current_deck_archetypes
     ORDER BY deck_id, version_id DESC
), bye AS (
    SELECT deck_id,
           count(*) FILTER (WHERE own > opp OR (own = opp AND draw_games > 0)) AS wins,
           count(*) FILTER (WHERE own < opp) AS losses
      FROM (SELECT deck1_id AS deck_id, p1_games AS own, p2_games AS opp, draw_games
              FROM matches WHERE is_bye AND deck1_id IS NOT NULL
            UNION ALL
            SELECT deck2_id, p2_games, p1_games, draw_games
              FROM matches WHERE is_bye AND deck2_id IS NOT NULL) b
     GROUP BY deck_id
), standing AS (
    SELECT DISTINCT ON (deck_id) deck_id, wins, losses, draws
      FROM standings
     WHERE deck_id IS NOT NULL AND wins IS NOT NULL AND losses IS NOT NULL
     ORDER BY deck_id, tournament_id, position
), deck AS (
    SELECT d.id AS deck_id, d.tournament_id, t.format, t.event_date,
           date_trunc('week', t.event_date)::date AS week_start, t.event_kind,
           d.player_key,
           coalesce(n.name, l.archetype, 'Unknown') AS archetype,
           coalesce(l.archetype, 'Unknown') AS name_raw,
           coalesce(l.color, 'Unknown') AS color,
           coalesce(l.companion, '') AS companion,
           d.main_total, d.side_total, d.rank,
           d.record_wins, d.record_losses, d.record_draws
      FROM decks d
      JOIN tournaments t ON t.id = d.tournament_id
      LEFT JOIN label l ON l.deck_id = d.id
      LEFT JOIN archetype_names n ON n.format = t.format AND n.name_raw = l.archetype
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
       deck.event_kind, deck.player_key, deck.archetype, deck.name_raw, deck.color,
       deck.companion,
       deck.main_total, deck.side_total, deck.rank,
       coalesce(r.wins, 0)::int AS wins,
       coalesce(r.losses, 0)::int AS losses,
       coalesce(r.draws, 0)::int AS draws,
       coalesce(r.mirror_seats, 0)::int AS mirror_seats,
       coalesce(r.all_wins + r.all_losses + r.all_draws, 0)::int AS counted,
       CASE WHEN st.deck_id IS NOT NULL THEN greatest(st.wins - coalesce(b.wins, 0), 0)
            WHEN deck.record_wins IS NOT NULL
                THEN greatest(deck.record_wins - coalesce(b.wins, 0), 0)
       END::int AS rec_wins,
       CASE WHEN st.deck_id IS NOT NULL THEN greatest(st.losses - coalesce(b.losses, 0), 0)
            WHEN deck.record_wins IS NOT NULL
                THEN greatest(coalesce(deck.record_losses, 0) - coalesce(b.losses, 0), 0)
       END::int AS rec_losses,
       CASE WHEN st.deck_id IS NOT NULL THEN coalesce(st.draws, 0)
            WHEN deck.record_wins IS NOT NULL THEN coalesce(deck.record_draws, 0)
       END::int AS rec_draws,
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
  LEFT JOIN bye b ON b.deck_id = deck.deck_id
WITH DATA;

CREATE UNIQUE INDEX ux_mv_deck_facts ON mv_deck_facts (deck_id);
-- "Recent best decks" of an archetype and per-format scans.
CREATE INDEX ix_mv_deck_facts_archetype ON mv_deck_facts (format, archetype, event_date);

-- mv_player_archetype_daily: per (format, day, event kind, archetype, player) the player's
-- decks and counted results with that archetype. Distinct players cannot be summed across
-- days, so every window (standard or custom) aggregates this grain: players = distinct
-- player_key, and the per-player (W, L) feed the player-clustered CR2 interval exactly.
-- Both win-rate bases (METHODOLOGY.md §4): wins/losses/draws/mirror_seats (matches basis,
-- covered = decks with a counted match) and rec_* (records basis, rec_decks = decks with a
-- record of at least one match).
CREATE MATERIALIZED VIEW mv_player_archetype_daily AS
SELECT format, event_date, event_kind, archetype, player_key,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws,
       sum(mirror_seats)::int AS mirror_seats,
       (count(*) FILTER (WHERE counted > 0))::int AS covered,
       coalesce(sum(rec_wins), 0)::int AS rec_wins,
       coalesce(sum(rec_losses), 0)::int AS rec_losses,
       coalesce(sum(rec_draws), 0)::int AS rec_draws,
       (count(*) FILTER (WHERE rec_wins + rec_losses + rec_draws > 0))::int AS rec_decks
  FROM mv_deck_facts
 GROUP BY format, event_date, event_kind, archetype, player_key
WITH DATA;

CREATE UNIQUE INDEX ux_mv_player_archetype_daily
    ON mv_player_archetype_daily (format, event_date, event_kind, archetype, player_key);

-- mv_archetype_daily: per (format, day, event kind, archetype): decks, distinct players of
-- that day, counted results (mirrors excluded from W/L/D), mirror matches and match seats
-- (seats = wins + losses + draws + 2 × mirrors: a mirror seats the archetype twice), and
-- the records basis (rec_*, rec_decks) and matches-basis coverage (covered).
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
       sum(wins + losses + draws + mirror_seats)::int AS seats,
       sum(covered)::int AS covered,
       sum(rec_wins)::int AS rec_wins,
       sum(rec_losses)::int AS rec_losses,
       sum(rec_draws)::int AS rec_draws,
       sum(rec_decks)::int AS rec_decks
  FROM mv_player_archetype_daily
 GROUP BY format, event_date, event_kind, archetype
WITH DATA;

CREATE UNIQUE INDEX ux_mv_archetype_daily
    ON mv_archetype_daily (format, event_date, event_kind, archetype);

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
    SELECT deck_id, format, week_start, event_kind, archetype, wins, losses,
           coalesce(rec_wins, 0) AS rec_wins, coalesce(rec_losses, 0) AS rec_losses,
           dense_rank() OVER (ORDER BY format, week_start, event_kind, archetype) AS g
      FROM mv_deck_facts
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
  JOIN grp ON grp.g = a.g
WITH DATA;

CREATE UNIQUE INDEX ux_mv_card_usage_weekly
    ON mv_card_usage_weekly (format, week_start, event_kind, archetype, board);

-- mv_deck_size_weekly: decks per (format, Monday, event kind, archetype, mainboard total,
-- sideboard total). Gives the archetype's deck count for the card-usage weeks (the share
-- denominator) and the most common board sizes of the stock decklist; with their summed
-- non-mirror results and records (the card-performance totals of the archetype).
CREATE MATERIALIZED VIEW mv_deck_size_weekly AS
SELECT format, week_start, event_kind, archetype, main_total, side_total,
       count(*)::int AS decks,
       sum(wins)::int AS wins, sum(losses)::int AS losses,
       coalesce(sum(rec_wins), 0)::int AS rec_wins,
       coalesce(sum(rec_losses), 0)::int AS rec_losses
  FROM mv_deck_facts
 GROUP BY format, week_start, event_kind, archetype, main_total, side_total
WITH DATA;

CREATE UNIQUE INDEX ux_mv_deck_size_weekly
    ON mv_deck_size_weekly (format, week_start, event_kind, archetype, main_total, side_total);

