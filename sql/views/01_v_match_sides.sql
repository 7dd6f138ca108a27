-- v_match_sides: every match that enters the statistics, once from each deck's side.
-- A plain view (nothing to refresh); it is the single definition of a "counted match" for
-- mv_deck_facts and mv_matchup_daily. Excluded (METHODOLOGY.md §2 and §12):
--   * byes (is_bye);
--   * matches against a player without a decklist (deck1_id or deck2_id NULL);
--   * unplayed / unreported rounds recorded as 0-0-0, unless both players' standings
--     confirm a draw: an intentional draw is often reported with no game (METHODOLOGY.md
--     §2). Confirmed = for both decks, the draws of its standing not explained by its other
--     rounds (played draws, any opponent) cover all its 0-0-0 rounds. MTGO standings
--     always say 0 draws, so MTGO 0-0-0 rounds are never confirmed.
-- result: 1 = this deck won more games, -1 = fewer, 0 = a draw (equal game wins).
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
