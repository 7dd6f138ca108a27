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
