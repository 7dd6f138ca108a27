-- mv_player_archetype_total: per (format, event group, archetype, player) the player's sums
-- with that archetype over the whole history (custom windows: "all of history minus the days
-- outside", pipelines/stats/window_stats.py). Kept by the triggers of migration 0020 through
-- every write; a full refresh skips those triggers and refills it from this statement
-- (migration 0026). Reads every daily row: full refreshes only.
INSERT INTO mv_player_archetype_total
SELECT p.format, g.event_group, p.archetype, p.player_key,
       sum(p.decks), sum(p.wins), sum(p.losses), sum(p.draws), sum(p.mirror_seats),
       sum(p.covered), sum(p.rec_wins), sum(p.rec_losses), sum(p.rec_draws), sum(p.rec_decks)
  FROM mv_player_archetype_daily p JOIN stats_event_groups g ON g.event_kind = p.event_kind
 GROUP BY 1, 2, 3, 4;
