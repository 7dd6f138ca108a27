-- mv_player_total: per (format, event group, player) the player's decks over the whole history
-- (distinct players of a custom window). Kept by the triggers of migration 0020; refilled
-- from this statement by a full refresh (migration 0026), after mv_player_archetype_total:
-- the sum of a player's per-archetype sums (half the rows of the daily table joined to the
-- event groups).
INSERT INTO mv_player_total
SELECT format, event_group, player_key, sum(decks)
  FROM mv_player_archetype_total
 GROUP BY 1, 2, 3;
