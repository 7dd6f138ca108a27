-- mv_archetype_week_players: distinct players per (format, Monday–Sunday week, event group,
-- archetype) (an archetype's weekly series over a long window). Kept by the triggers of
-- migrations 0022/0023; refilled from this statement by a full refresh (migration 0026).
-- Distinct players counted by bytes (COLLATE "C"): the same count, a cheaper sort.
INSERT INTO mv_archetype_week_players
SELECT p.format, p.event_date - (p.event_date - DATE '0001-01-01') % 7, g.event_group,
       p.archetype, count(DISTINCT p.player_key COLLATE "C")
  FROM mv_player_archetype_daily p JOIN stats_event_groups g ON g.event_kind = p.event_kind
 GROUP BY 1, 2, 3, 4;
