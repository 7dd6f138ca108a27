-- Issue 14: v_match_sides without shared subqueries (same rows), so the incremental refresh
-- of a few days reads only their events' matches (the old view computed the confirmed
-- 0-0-0 draws of the whole history at every use). The view file is embedded verbatim.
--
-- The statistics tables change by a night's rows: autoanalyze after ~2,000 changed rows
-- instead of 10 % of the table (the incremental refresh does not ANALYZE them itself).
DROP VIEW v_match_sides;

ALTER TABLE mv_deck_facts SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
ALTER TABLE mv_player_archetype_daily SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
ALTER TABLE mv_archetype_daily SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
ALTER TABLE mv_archetype_color_daily SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
ALTER TABLE mv_matchup_daily SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
ALTER TABLE mv_card_usage_weekly SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
ALTER TABLE mv_deck_size_weekly SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);

-- >>> sql/views/01_v_match_sides.sql
-- v_match_sides: every match that enters the statistics, once from each deck's side.
-- A plain view (nothing to refresh); it is the single definition of a "counted match" for
-- mv_deck_facts and mv_matchup_daily. Excluded (METHODOLOGY.md §2 and §12):
--   * byes (is_bye);
--   * matches against a player without a decklist (deck1_id or deck2_id NULL);
--   * unplayed / unreported rounds recorded as 0-0-0, unless both players' standings
--     confirm a draw: an intentional draw is often reported with no game (METHODOLOGY.md
--     §2). Confirmed = for both decks, the draws of its standing not explained by its other
--     rounds (played draws, any opponent) cover all its 0-0-0 rounds
--     (stats_draw_confirmed). MTGO standings always say 0 draws, so MTGO 0-0-0 rounds are
--     never confirmed.
-- One scan of matches, each match giving its two sides (no UNION, no shared subquery), so
-- that a filter or join on tournament_id (the refresh of a few days) reaches the index of
-- matches and the per-deck lookups.
-- result: 1 = this deck won more games, -1 = fewer, 0 = a draw (equal game wins).
CREATE FUNCTION stats_draw_confirmed(event bigint, deck bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (SELECT st.draws FROM standings st
             WHERE st.tournament_id = event AND st.deck_id = deck
             ORDER BY st.position LIMIT 1)
           - (SELECT count(*) FROM matches p
               WHERE p.tournament_id = event AND NOT p.is_bye
                 AND deck IN (p.deck1_id, p.deck2_id)
                 AND p.p1_games = p.p2_games
                 AND p.p1_games + p.p2_games + p.draw_games > 0)
           >= (SELECT count(*) FROM matches z
                WHERE z.tournament_id = event AND NOT z.is_bye
                  AND z.deck1_id IS NOT NULL AND z.deck2_id IS NOT NULL
                  AND deck IN (z.deck1_id, z.deck2_id)
                  AND z.p1_games + z.p2_games + z.draw_games = 0)
$$;

CREATE VIEW v_match_sides AS
SELECT m.id AS match_id, s.side, m.tournament_id, s.deck_id, s.opp_deck_id, s.result
  FROM matches m
 CROSS JOIN LATERAL (VALUES
           (1::smallint, m.deck1_id, m.deck2_id, sign(m.p1_games - m.p2_games)::smallint),
           (2::smallint, m.deck2_id, m.deck1_id, sign(m.p2_games - m.p1_games)::smallint))
       AS s (side, deck_id, opp_deck_id, result)
 WHERE NOT m.is_bye
   AND m.deck1_id IS NOT NULL AND m.deck2_id IS NOT NULL
   AND (m.p1_games + m.p2_games + m.draw_games > 0
        OR (stats_draw_confirmed(m.tournament_id, m.deck1_id)
            AND stats_draw_confirmed(m.tournament_id, m.deck2_id)));
-- <<< sql/views/01_v_match_sides.sql
