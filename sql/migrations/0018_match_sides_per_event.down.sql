-- Back to the view of 0010.
DROP VIEW v_match_sides;
ALTER TABLE mv_deck_facts RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE mv_player_archetype_daily RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE mv_archetype_daily RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE mv_archetype_color_daily RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE mv_matchup_daily RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE mv_card_usage_weekly RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE mv_deck_size_weekly RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
DROP FUNCTION stats_draw_confirmed(bigint, bigint);

CREATE VIEW v_match_sides AS
WITH zero AS (
    SELECT m.id, m.tournament_id, m.deck1_id, m.deck2_id
      FROM matches m
     WHERE NOT m.is_bye
       AND m.deck1_id IS NOT NULL AND m.deck2_id IS NOT NULL
       AND m.p1_games + m.p2_games + m.draw_games = 0
), zero_deck AS (
    SELECT tournament_id, deck_id, count(*) AS zero_rounds
      FROM (SELECT tournament_id, deck1_id AS deck_id FROM zero
            UNION ALL
            SELECT tournament_id, deck2_id FROM zero) z
     GROUP BY tournament_id, deck_id
), free_draws AS (
    SELECT z.deck_id, z.zero_rounds,
           (SELECT st.draws FROM standings st
             WHERE st.tournament_id = z.tournament_id AND st.deck_id = z.deck_id
             ORDER BY st.position LIMIT 1)
           - (SELECT count(*) FROM matches p
               WHERE p.tournament_id = z.tournament_id AND NOT p.is_bye
                 AND z.deck_id IN (p.deck1_id, p.deck2_id)
                 AND p.p1_games = p.p2_games
                 AND p.p1_games + p.p2_games + p.draw_games > 0) AS unexplained
      FROM zero_deck z
), confirmed AS (
    SELECT z.id
      FROM zero z
      JOIN free_draws a ON a.deck_id = z.deck1_id
      JOIN free_draws b ON b.deck_id = z.deck2_id
     WHERE a.unexplained >= a.zero_rounds AND b.unexplained >= b.zero_rounds
)
SELECT m.id AS match_id, 1::smallint AS side, m.tournament_id,
       m.deck1_id AS deck_id, m.deck2_id AS opp_deck_id,
       sign(m.p1_games - m.p2_games)::smallint AS result
  FROM matches m
 WHERE NOT m.is_bye
   AND m.deck1_id IS NOT NULL AND m.deck2_id IS NOT NULL
   AND (m.p1_games + m.p2_games + m.draw_games > 0 OR m.id IN (SELECT id FROM confirmed))
UNION ALL
SELECT m.id, 2::smallint, m.tournament_id,
       m.deck2_id, m.deck1_id,
       sign(m.p2_games - m.p1_games)::smallint
  FROM matches m
 WHERE NOT m.is_bye
   AND m.deck1_id IS NOT NULL AND m.deck2_id IS NOT NULL
   AND (m.p1_games + m.p2_games + m.draw_games > 0 OR m.id IN (SELECT id FROM confirmed));
