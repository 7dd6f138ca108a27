-- mv_matchup_total: per (format, event group, archetype, opponent) the matchup cell's sums
-- over the whole history and how many daily rows it sums. Kept by the triggers of migration
-- 0020; refilled from this statement by a full refresh (migration 0026).
INSERT INTO mv_matchup_total
SELECT m.format, g.event_group, m.archetype, m.opponent,
       count(*), sum(m.wins), sum(m.losses), sum(m.draws)
  FROM mv_matchup_daily m JOIN stats_event_groups g ON g.event_kind = m.event_kind
 GROUP BY 1, 2, 3, 4;
