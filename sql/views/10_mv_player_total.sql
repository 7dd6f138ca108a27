-- mv_player_total: per (format, event group, player) the player's decks over the whole history
-- (distinct players of a custom window). Kept by the triggers of migration 0020; refilled
-- from this statement by a full refresh (migration 0026).
INSERT INTO mv_player_total
SELECT p.format, g.event_group, p.player_key, sum(p.decks)
  FROM mv_player_archetype_daily p JOIN stats_event_groups g ON g.event_kind = p.event_kind
 GROUP BY 1, 2, 3;
