-- mv_archetype_week_players: distinct players per (format, Monday–Sunday week, event group,
-- archetype) (an archetype's weekly series over a long window). Kept by the triggers of
-- migrations 0022/0023; refilled from this statement by a full refresh (migration 0026).
-- The distinct (week, group, archetype, player) rows first, then counted: two hash
-- aggregates instead of sorting every row for count(DISTINCT) (2.2 s -> 1.1 s at 500k).
INSERT INTO mv_archetype_week_players
SELECT format, week_start, event_group, archetype, count(*)
  FROM (SELECT DISTINCT p.format,
               p.event_date - (p.event_date - DATE '0001-01-01') % 7 AS week_start,
               g.event_group, p.archetype, p.player_key
          FROM mv_player_archetype_daily p
          JOIN stats_event_groups g ON g.event_kind = p.event_kind) players
 GROUP BY 1, 2, 3, 4;
